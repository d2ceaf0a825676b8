"""Search indexes of message bodies; direct rooms.

Rooms gain `kind` ('room' for every existing one) and, for direct rooms, the pair of people
(unique); the unique-name rule becomes a partial unique index that only normal rooms obey,
and names may be as long as two usernames and ", ". Messages gain their full-text index
(`api.search.index`): an FTS5 table and triggers on SQLite, a generated tsvector column with
a GIN index on PostgreSQL; both are filled from the messages already stored.

The index's DDL comes from `api.search.index`, so the query side and the index share one
definition of a word; a change to that definition needs a migration that rebuilds the index.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from api.search import index

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IS_ROOM = sa.text("kind = 'room'")
KIND_CHECK = (
    "(kind = 'room' AND direct_low_id IS NULL AND direct_high_id IS NULL) OR "
    "(kind = 'direct' AND direct_low_id IS NOT NULL AND direct_high_id IS NOT NULL "
    "AND direct_low_id <= direct_high_id)"
)


def upgrade() -> None:
    # On SQLite this rebuilds the table (batch mode); Alembic's connection does not enforce
    # foreign keys, so dropping the old table cascades to nothing.
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=16), server_default="room", nullable=False))
        batch_op.add_column(sa.Column("direct_low_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("direct_high_id", sa.Integer(), nullable=True))
        batch_op.alter_column("name", existing_type=sa.String(length=64), type_=sa.String(length=66))
        batch_op.alter_column("name_key", existing_type=sa.String(length=64), type_=sa.String(length=66))
        batch_op.drop_constraint("uq_rooms_name_key", type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_rooms_direct_low_id_direct_high_id"), ["direct_low_id", "direct_high_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_rooms_direct_low_id_users"), "users", ["direct_low_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_rooms_direct_high_id_users"),
            "users",
            ["direct_high_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_check_constraint(batch_op.f("ck_rooms_kind"), KIND_CHECK)
    op.create_index(
        "uq_rooms_name_key_of_rooms",
        "rooms",
        ["name_key"],
        unique=True,
        sqlite_where=IS_ROOM,
        postgresql_where=IS_ROOM,
    )
    for statement in _create_search_index():
        op.execute(statement)


def downgrade() -> None:
    for statement in _drop_search_index():
        op.execute(statement)
    # Direct rooms have no place in the older schema. Deleted by hand: foreign keys are not
    # enforced on SQLite here, so nothing would cascade.
    direct = "(SELECT id FROM rooms WHERE kind = 'direct')"
    for table in ("messages", "memberships", "room_bans"):
        op.execute(f"DELETE FROM {table} WHERE room_id IN {direct}")
    op.execute("DELETE FROM rooms WHERE kind = 'direct'")
    op.drop_index("uq_rooms_name_key_of_rooms", table_name="rooms")
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_rooms_kind"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_rooms_direct_high_id_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_rooms_direct_low_id_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_rooms_direct_low_id_direct_high_id"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_rooms_name_key"), ["name_key"])
        batch_op.alter_column("name_key", existing_type=sa.String(length=66), type_=sa.String(length=64))
        batch_op.alter_column("name", existing_type=sa.String(length=66), type_=sa.String(length=64))
        batch_op.drop_column("direct_high_id")
        batch_op.drop_column("direct_low_id")
        batch_op.drop_column("kind")


def _is_sqlite() -> bool:
    return op.get_context().dialect.name == "sqlite"


def _create_search_index() -> list[str]:
    return index.sqlite_create(index.sqlite_tokenizer()) if _is_sqlite() else index.postgres_create()


def _drop_search_index() -> list[str]:
    return index.sqlite_drop() if _is_sqlite() else index.postgres_drop()
