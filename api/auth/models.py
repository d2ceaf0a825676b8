from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base, UTCDateTime, utcnow


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(32))
    # Lower-cased username: uniqueness and login ignore case, display keeps it.
    username_key: Mapped[str] = mapped_column(String(32), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # A program's account: no password (it cannot log in), API tokens made by site admins.
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Access tokens issued before this are refused: set by a logout-all and a deactivation,
    # so neither can be undone by waiting (or by a reactivation).
    tokens_valid_after: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginSession(Base):
    """One login: the refresh-token family it started, and where and when it was used.

    It is live while one of its refresh tokens still works; every revocation of refresh
    tokens therefore ends the sessions it empties, with nothing to keep in step.
    """

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family: Mapped[str] = mapped_column(String(32), unique=True)
    user_agent: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RefreshToken(Base):
    """One issued refresh token. `family` groups every token descended from one login."""

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    family: Mapped[str] = mapped_column(
        String(32), ForeignKey("login_sessions.family", ondelete="CASCADE"), index=True
    )
    # SHA-256 of the token's jti: a database leak does not hand out usable tokens.
    jti_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    spent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LoginFailure(Base):
    """A failed login, kept for the throttling window; shared by every worker."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_username_key_failed_at", "username_key", "failed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username_key: Mapped[str] = mapped_column(String(128))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AddressHit(Base):
    """One event a throttle per client address counts (`kind`: a failed login, a signup),
    kept for its window; shared by every worker. Apart from LoginFailure so that a
    successful login, which clears its username's failures, leaves the address's count."""

    __tablename__ = "address_hits"
    __table_args__ = (Index("ix_address_hits_kind_address_at", "kind", "address", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class Invite(Base):
    """A signup code made by a site admin; live while unexpired, unrevoked, with uses left."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    uses_left: Mapped[int] = mapped_column(Integer)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
