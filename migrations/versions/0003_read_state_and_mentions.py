"""Read state and mentions: `memberships.read_seq`, `messages.mentions`, `message_mentions`.

Existing memberships start with everything read (read_seq = the room's last_seq), as a new
membership does. Existing messages mention nobody: their mentions were never parsed, and
guessing now could name people who were not members when they were written.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.add_column(sa.Column("read_seq", sa.BigInteger(), server_default="0", nullable=False))
    op.execute(
        "UPDATE memberships SET read_seq = (SELECT last_seq FROM rooms WHERE rooms.id = memberships.room_id)"
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mentions", sa.JSON(), nullable=True))
        batch_op.create_index(
            "ix_messages_deleted",
            ["room_id", "seq"],
            unique=False,
            sqlite_where=sa.text("deleted_at IS NOT NULL"),
            postgresql_where=sa.text("deleted_at IS NOT NULL"),
        )
    op.create_table(
        "message_mentions",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("room_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_message_mentions_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_message_mentions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "room_id", "seq", name=op.f("pk_message_mentions")),
    )
    with op.batch_alter_table("message_mentions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_message_mentions_user_id_message_id", ["user_id", "message_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("message_mentions", schema=None) as batch_op:
        batch_op.drop_index("ix_message_mentions_user_id_message_id")
    op.drop_table("message_mentions")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_deleted")
        batch_op.drop_column("mentions")
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_column("read_seq")
