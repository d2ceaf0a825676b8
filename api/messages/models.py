from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.auth.models import User
from api.db import Base, UTCDateTime, utcnow

# SQLite only auto-increments an INTEGER PRIMARY KEY.
MessageId = BigInteger().with_variant(Integer(), "sqlite")


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        # Serves history pages and the per-room seq guarantee.
        UniqueConstraint("room_id", "seq"),
        # Serves `changes?after_rev=` and gap fills: every rev names at most one message.
        UniqueConstraint("room_id", "rev"),
        # Makes a send idempotent per author and room; NULL nonces never collide.
        UniqueConstraint("room_id", "author_id", "nonce"),
    )

    id: Mapped[int] = mapped_column(MessageId, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(BigInteger)
    # The rev of this message's latest change.
    rev: Mapped[int] = mapped_column(BigInteger)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    nonce: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    author: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None
