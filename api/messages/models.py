from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
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
        # Unread counts subtract the deleted messages above a read cursor: few, so a small index.
        Index(
            "ix_messages_deleted",
            "room_id",
            "seq",
            sqlite_where=text("deleted_at IS NOT NULL"),
            postgresql_where=text("deleted_at IS NOT NULL"),
        ),
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
    # The ids of the members it mentions, fixed when it is stored or edited (None: nobody).
    mentions: Mapped[list[int] | None] = mapped_column(JSON)
    # The seq of the message it answers, in the same room.
    reply_to: Mapped[int | None] = mapped_column(BigInteger)
    # [{"emoji": ..., "users": [ids]}] in the order of each emoji's first use (None: none).
    # Kept on the message, so every read of it has them without a join; changed only under
    # the room's rev lock, so concurrent reactions never lose one another.
    reactions: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)

    author: Mapped[User] = relationship(lazy="joined", innerjoin=True)

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None


class MessageMention(Base):
    """A member a message mentions (other than its author): what mention counts and
    `GET /api/me/mentions` read. Removed with the message's body when it is deleted."""

    __tablename__ = "message_mentions"
    __table_args__ = (Index("ix_message_mentions_user_id_message_id", "user_id", "message_id"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    room_id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    message_id: Mapped[int] = mapped_column(MessageId, ForeignKey("messages.id", ondelete="CASCADE"))
