"""Replies and reactions: `messages.reply_to` and `messages.reactions`.

Existing messages answer nothing and have no reactions (both NULL).

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reply_to", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("reactions", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("reactions")
        batch_op.drop_column("reply_to")
