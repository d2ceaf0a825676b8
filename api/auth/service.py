"""Accounts and tokens, free of HTTP: routers and the WebSocket layer call these."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import invites
from api.auth.exceptions import AccountDisabled, AuthError, TokenInvalid, TokenMissing, TokenRevoked
from api.auth.models import RefreshToken, User
from api.auth.passwords import PasswordHasher
from api.auth.schemas import USERNAME_PATTERN, SignupRequest, TokenPair
from api.auth.sessions import revoke_family, start_session, touch_session
from api.auth.throttle import LoginThrottle, SignupThrottle, throttle_key
from api.auth.tokens import TokenClaims, TokenType, decode_token, issue_token
from api.config import Settings, SignupMode
from api.db import Database, utcnow
from api.errors import Conflict, Forbidden, NotAuthenticated
from api.tokens import service as api_tokens
from api.tokens.codec import is_api_token
from api.tokens.usage import TokenUsage

MAX_PASSWORD_LENGTH = 128
VALID_USERNAME = re.compile(USERNAME_PATTERN)


@dataclass(frozen=True, slots=True)
class Authenticated:
    """Who a request or connection acts for, and the credential it holds: an access token
    from a login, or an API token (`api_token_id`)."""

    user: User
    issued_at: datetime
    expires_at: datetime | None  # None: an API token that does not expire
    session_id: int | None = None  # the login an access token came from
    api_token_id: int | None = None

    @property
    def by_api_token(self) -> bool:
        return self.api_token_id is not None


async def get_user_by_username(session: AsyncSession, username: str) -> User | None:
    if not VALID_USERNAME.fullmatch(username):
        return None  # no such user can exist, and PostgreSQL refuses some strings (NUL)
    return await session.scalar(select(User).where(User.username_key == username.lower()))


async def authenticate_access_token(
    *, session: AsyncSession, settings: Settings, token: str | None, usage: TokenUsage | None = None
) -> Authenticated:
    """The active user an access token or an API token (`hbb_...`) belongs to. Used by REST
    and WebSocket alike; `usage` records the use of API tokens (their `last_used_at`)."""
    if not token:
        raise TokenMissing
    if is_api_token(token):
        return await _by_api_token(session, token, usage)
    claims = decode_token(key=settings.signing_key, token=token, expected=TokenType.access)
    user = await session.get(User, claims.user_id)
    if user is None:
        raise TokenInvalid
    _check_active(user)
    if user.tokens_valid_after is not None and claims.issued_at < user.tokens_valid_after:
        raise TokenRevoked
    return Authenticated(
        user=user, issued_at=claims.issued_at, expires_at=claims.expires_at, session_id=claims.session_id
    )


async def _by_api_token(session: AsyncSession, token: str, usage: TokenUsage | None) -> Authenticated:
    api_token, user = await api_tokens.find(session, token)
    _check_active(user)
    api_tokens.check_usable(api_token)
    if usage is not None:
        await usage.used(api_token)
    return Authenticated(
        user=user, issued_at=api_token.created_at, expires_at=api_token.expires_at, api_token_id=api_token.id
    )


def _check_active(user: User) -> None:
    if not user.is_active:
        raise AccountDisabled


async def signup(
    *,
    db: Database,
    hasher: PasswordHasher,
    throttle: SignupThrottle,
    mode: SignupMode,
    address: str,
    data: SignupRequest,
) -> User:
    """A new account, as the SIGNUP `mode` allows. Everything that can refuse it is checked
    before the password is hashed, then decided for good in the write transaction that
    stores the user, so a use of an invite and a place in the throttle are taken only by a
    signup that succeeds."""
    if mode == "closed":
        raise Forbidden("Signup is closed: ask an administrator for an account")
    async with hasher.turn():
        await throttle.check(address)
        async with db.session() as session:
            if mode == "invite":
                await invites.check_invite(session, data.invite)
            await ensure_username_free(session, data.username)
        user = new_user(data, await hasher.hash(data.password))
        async with db.writing() as session:
            await throttle.record(session, address)
            if mode == "invite":
                await invites.spend_invite(session, data.invite)
            await add_user(session, user)
        return user


async def ensure_username_free(session: AsyncSession, username: str) -> None:
    if await get_user_by_username(session, username) is not None:
        raise Conflict("Username already taken")


class AccountNames(Protocol):
    """What every kind of new account is given: signup and admin forms, and bots."""

    @property
    def username(self) -> str: ...
    @property
    def display_name(self) -> str | None: ...


def new_user(data: AccountNames, password_hash: str, *, is_admin: bool = False, is_bot: bool = False) -> User:
    """An account not stored yet: every way of making one (signup, admins, bots, the command
    line) builds it here."""
    return User(
        username=data.username,
        username_key=data.username.lower(),
        display_name=data.display_name or data.username,
        password_hash=password_hash,
        is_admin=is_admin,
        is_active=True,
        is_bot=is_bot,
        created_at=utcnow(),
    )


async def add_user(session: AsyncSession, user: User) -> None:
    """Insert `user` in the caller's transaction; its id is set on return."""
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent signup took it between check and insert
        raise Conflict("Username already taken") from exc


async def login(
    *,
    db: Database,
    hasher: PasswordHasher,
    throttle: LoginThrottle,
    settings: Settings,
    username: str,
    password: str,
    address: str | None = None,
    user_agent: str | None = None,
) -> TokenPair:
    """A token pair starting a new session. `address` is the client's, for the throttle
    per address; `user_agent` is what the session list shows."""
    async with hasher.turn():
        key = throttle_key(username)
        failures = await throttle.check(key, address)
        async with db.session() as session:
            user = await get_user_by_username(session, username)
        too_long = len(password) > MAX_PASSWORD_LENGTH
        matches, new_hash = await hasher.verify(
            password[:MAX_PASSWORD_LENGTH], None if user is None or too_long else user.password_hash
        )
        if user is None or not matches:
            await throttle.record_failure(key, address)
            raise NotAuthenticated("Incorrect username or password")
        if not user.is_active:
            raise Forbidden("Account deactivated")
        if failures:
            await throttle.clear(key)
        async with db.writing() as session:
            if new_hash is not None:
                await session.execute(update(User).where(User.id == user.id).values(password_hash=new_hash))
            family = uuid.uuid4().hex
            login_session = start_session(session, user_id=user.id, family=family, user_agent=user_agent)
            await session.flush()
            return _issue_pair(session, settings, user.id, family=family, session_id=login_session.id)


async def refresh(*, db: Database, settings: Settings, refresh_token: str) -> TokenPair:
    claims = _refresh_claims(settings, refresh_token)
    async with db.writing() as session:
        pair = await _rotate(session, settings, claims)
    if pair is None:
        raise NotAuthenticated("Refresh token reuse detected: every session of that login was revoked")
    return pair


async def _rotate(session: AsyncSession, settings: Settings, claims: TokenClaims) -> TokenPair | None:
    """The next pair of the login, or None when the token was already spent (reuse: the
    whole login is revoked, and that revocation must commit)."""
    now = utcnow()
    row = await session.scalar(select(RefreshToken).where(RefreshToken.jti_hash == claims.jti_hash))
    if row is None or row.user_id != claims.user_id or row.revoked_at is not None:
        raise NotAuthenticated("Invalid refresh token")
    # Conditional, so two racing refreshes cannot both spend the same token.
    spent = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == row.id, RefreshToken.spent_at.is_(None))
        .values(spent_at=now)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        await revoke_family(session, row.family)
        return None
    user = await session.get(User, claims.user_id)
    if user is None or not user.is_active:
        raise NotAuthenticated("Invalid refresh token")
    session_id = await touch_session(session, row.family)
    return _issue_pair(session, settings, user.id, family=row.family, session_id=session_id)


async def logout(*, db: Database, settings: Settings, refresh_token: str) -> None:
    """Revoke the login `refresh_token` belongs to; an unusable token is ignored (RFC 7009)."""
    try:
        claims = _refresh_claims(settings, refresh_token)
    except NotAuthenticated:
        return
    async with db.writing() as session:
        row = await session.scalar(select(RefreshToken).where(RefreshToken.jti_hash == claims.jti_hash))
        if row is not None and row.user_id == claims.user_id:
            await revoke_family(session, row.family)


async def logout_all(*, db: Database, user_id: int) -> None:
    """Every refresh token of the user and every access token issued before now stop working.
    The caller tells live connections (RoomEvents.tokens_revoked) once this has committed."""
    async with db.writing() as session:
        await revoke_user_tokens(session, user_id)
        await revoke_access_tokens(session, user_id)


async def revoke_user_tokens(session: AsyncSession, user_id: int) -> None:
    """Every refresh token of the user stops working, which ends all of their sessions
    (a session is live while one of its refresh tokens works). Access tokens are untouched."""
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


async def revoke_access_tokens(session: AsyncSession, user_id: int) -> None:
    """Every access token of the user issued before now is refused from now on, whatever
    happens to the account later (a reactivation does not bring them back)."""
    await session.execute(update(User).where(User.id == user_id).values(tokens_valid_after=utcnow()))


def _refresh_claims(settings: Settings, token: str) -> TokenClaims:
    try:
        return decode_token(key=settings.signing_key, token=token, expected=TokenType.refresh)
    except AuthError as exc:
        raise NotAuthenticated("Invalid or expired refresh token") from exc


def _issue_pair(
    session: AsyncSession, settings: Settings, user_id: int, *, family: str, session_id: int
) -> TokenPair:
    access, _ = issue_token(
        key=settings.signing_key,
        user_id=user_id,
        type=TokenType.access,
        lifetime=settings.access_token_lifetime,
        session_id=session_id,
    )
    refresh_token, claims = issue_token(
        key=settings.signing_key,
        user_id=user_id,
        type=TokenType.refresh,
        lifetime=settings.refresh_token_lifetime,
    )
    session.add(
        RefreshToken(
            user_id=user_id,
            family=family,
            jti_hash=claims.jti_hash,
            issued_at=claims.issued_at,
            expires_at=claims.expires_at,
        )
    )
    return TokenPair(
        access_token=access,
        refresh_token=refresh_token,
        expires_in=int(settings.access_token_lifetime.total_seconds()),
    )


async def update_profile(*, db: Database, user_id: int, display_name: str) -> User:
    async with db.writing() as session:
        user = await session.get(User, user_id)
        if user is None:  # deleted between authentication and now
            raise NotAuthenticated("Invalid token")
        user.display_name = display_name
    return user


async def change_password(
    *,
    db: Database,
    hasher: PasswordHasher,
    throttle: LoginThrottle,
    user: User,
    current_password: str,
    new_password: str,
) -> None:
    """Replace the password and revoke every refresh token of the user. Wrong current
    passwords count as failed logins of the username, so guessing here is throttled too."""
    async with hasher.turn():
        key = throttle_key(user.username)
        failures = await throttle.check(key)
        too_long = len(current_password) > MAX_PASSWORD_LENGTH
        matches, _ = await hasher.verify(
            current_password[:MAX_PASSWORD_LENGTH], None if too_long else user.password_hash
        )
        if not matches:
            await throttle.record_failure(key)
            raise Forbidden("The current password is not correct")
        if failures:
            await throttle.clear(key)
        password_hash = await hasher.hash(new_password)
        async with db.writing() as session:
            await session.execute(update(User).where(User.id == user.id).values(password_hash=password_hash))
            await revoke_user_tokens(session, user.id)
