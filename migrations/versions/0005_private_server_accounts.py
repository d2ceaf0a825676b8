"""Accounts for a team's own server: sessions, invites, throttles per address, tokens valid after.

Every existing login (refresh-token family) becomes a session: created at its first token,
last used at its newest, user agent unknown.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 15:52:02.861339
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "address_hits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_address_hits")),
    )
    with op.batch_alter_table("address_hits", schema=None) as batch_op:
        batch_op.create_index("ix_address_hits_kind_address_at", ["kind", "address", "at"], unique=False)

    op.create_table(
        "invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uses_left", sa.Integer(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_invites_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invites")),
        sa.UniqueConstraint("code", name=op.f("uq_invites_code")),
    )

    op.create_table(
        "login_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("family", sa.String(length=32), nullable=False),
        sa.Column("user_agent", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_login_sessions_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_sessions")),
        sa.UniqueConstraint("family", name=op.f("uq_login_sessions_family")),
    )
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_sessions_user_id"), ["user_id"], unique=False)

    # Before the foreign key: every family already in use gets its session.
    op.execute(
        "INSERT INTO login_sessions (user_id, family, user_agent, created_at, last_used_at) "
        "SELECT MIN(user_id), family, NULL, MIN(issued_at), MAX(issued_at) "
        "FROM refresh_tokens GROUP BY family ORDER BY MIN(id)"
    )
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_refresh_tokens_family_login_sessions"),
            "login_sessions",
            ["family"],
            ["family"],
            ondelete="CASCADE",
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tokens_valid_after", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # What goes: the sessions' user agents, invites, the counts per address and every
    # "valid after" time (access tokens issued before a logout-all work again until they expire).
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("tokens_valid_after")

    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_refresh_tokens_family_login_sessions"), type_="foreignkey")

    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_sessions_user_id"))
    op.drop_table("login_sessions")

    op.drop_table("invites")

    with op.batch_alter_table("address_hits", schema=None) as batch_op:
        batch_op.drop_index("ix_address_hits_kind_address_at")
    op.drop_table("address_hits")
