"""Per-room change numbers: `rooms.last_rev` and `messages.rev`.

Every change to a room's messages takes the room's next rev. Existing messages get revs
in seq order (rev = seq), and each room's last_rev starts at its last_seq, so a database
filled before this revision reads as if each of its messages were one change.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_rev", sa.BigInteger(), server_default="0", nullable=False))
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rev", sa.BigInteger(), nullable=True))
    op.execute("UPDATE messages SET rev = seq")
    op.execute("UPDATE rooms SET last_rev = last_seq")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.alter_column("rev", existing_type=sa.BigInteger(), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_messages_room_id_rev"), ["room_id", "rev"])


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_messages_room_id_rev"), type_="unique")
        batch_op.drop_column("rev")
    with op.batch_alter_table("rooms", schema=None) as batch_op:
        batch_op.drop_column("last_rev")
