from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.auth.models import User
from api.db import Base, UTCDateTime, utcnow


class Role(StrEnum):
    owner = "owner"
    admin = "admin"
    member = "member"


class RoomKind(StrEnum):
    room = "room"
    direct = "direct"


# A direct room is named after its two people: two usernames of up to 32 characters and ", ".
MAX_STORED_NAME = 2 * 32 + 2
_IS_ROOM = text("kind = 'room'")


class Room(Base):
    __tablename__ = "rooms"
    __table_args__ = (
        # Names are unique ignoring case among normal rooms; direct rooms are exempt.
        Index(
            "uq_rooms_name_key_of_rooms",
            "name_key",
            unique=True,
            sqlite_where=_IS_ROOM,
            postgresql_where=_IS_ROOM,
        ),
        # One direct room per pair of people, also when both open it at the same moment.
        UniqueConstraint("direct_low_id", "direct_high_id"),
        CheckConstraint(
            "(kind = 'room' AND direct_low_id IS NULL AND direct_high_id IS NULL) OR "
            "(kind = 'direct' AND direct_low_id IS NOT NULL AND direct_high_id IS NOT NULL "
            "AND direct_low_id <= direct_high_id)",
            name="kind",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default=RoomKind.room, server_default=RoomKind.room.value)
    name: Mapped[str] = mapped_column(String(MAX_STORED_NAME))
    name_key: Mapped[str] = mapped_column(String(MAX_STORED_NAME))
    description: Mapped[str] = mapped_column(String(1000), default="")
    is_private: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # The seq of the newest message; bumped in the transaction that stores it.
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    # The rev of the newest change to its messages (new, edited, deleted, reacted to);
    # bumped in the transaction that makes the change.
    last_rev: Mapped[int] = mapped_column(BigInteger, default=0)
    # A direct room's two people, the smaller id first (the same one twice: a room with oneself).
    direct_low_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    direct_high_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))

    @property
    def is_direct(self) -> bool:
        return self.kind == RoomKind.direct


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (CheckConstraint("role IN ('owner', 'admin', 'member')", name="role"),)

    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16), default=Role.member)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The highest seq the member has read: never moves back, and moves to their own message
    # when they send one, so no message of theirs is ever above it (unread counts rely on it).
    read_seq: Mapped[int] = mapped_column(BigInteger, default=0)

    user: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class RoomBan(Base):
    __tablename__ = "room_bans"

    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    banned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    banned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined", innerjoin=True)
    banned_by: Mapped[User | None] = relationship(foreign_keys=[banned_by_id], lazy="joined")
