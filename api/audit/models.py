from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from api.auth.models import User
from api.db import Base, UTCDateTime

# SQLite only auto-increments an INTEGER PRIMARY KEY.
EntryId = BigInteger().with_variant(Integer(), "sqlite")


class AuditAction(StrEnum):
    """Every act the SPEC lists; `message_delete` only when someone other than its author
    deletes it, `token_create` and `token_revoke` only for bot tokens."""

    kick = "kick"
    ban = "ban"
    unban = "unban"
    role_change = "role_change"
    room_update = "room_update"
    room_delete = "room_delete"
    message_delete = "message_delete"
    user_deactivate = "user_deactivate"
    user_activate = "user_activate"
    admin_grant = "admin_grant"
    admin_revoke = "admin_revoke"
    bot_create = "bot_create"
    token_create = "token_create"
    token_revoke = "token_revoke"
    announcement = "announcement"
    user_create = "user_create"
    invite_create = "invite_create"
    invite_revoke = "invite_revoke"


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(EntryId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Users are deactivated, never deleted, so the people named here stay.
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(32))
    # Not a foreign key: the entry of a room's deletion outlives the room.
    room_id: Mapped[int | None] = mapped_column(Integer)
    target_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    actor: Mapped[User] = relationship(foreign_keys=[actor_id], lazy="joined", innerjoin=True)
    target: Mapped[User | None] = relationship(foreign_keys=[target_id], lazy="joined")
