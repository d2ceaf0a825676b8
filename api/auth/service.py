"""Accounts and tokens, free of HTTP: routers and the WebSocket layer call these."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.exceptions import AccountDisabled, AuthError, TokenInvalid, TokenMissing
from api.auth.models import RefreshToken, User
from api.auth.passwords import PasswordHasher
from api.auth.schemas import USERNAME_PATTERN, SignupRequest, TokenPair
from api.auth.throttle import LoginThrottle, throttle_key
from api.auth.tokens import TokenClaims, TokenType, decode_token, issue_token
from api.config import Settings
from api.db import Database, utcnow
from api.errors import Conflict, Forbidden, NotAuthenticated

MAX_PASSWORD_LENGTH = 128
VALID_USERNAME = re.compile(USERNAME_PATTERN)


@dataclass(frozen=True, slots=True)
class Authenticated:
    user: User
    claims: TokenClaims


async def get_user_by_username(session: AsyncSession, username: str) -> User | None:
    if not VALID_USERNAME.fullmatch(username):
        return None  # no such user can exist, and PostgreSQL refuses some strings (NUL)
    return await session.scalar(select(User).where(User.username_key == username.lower()))


async def authenticate_access_token(
    *, session: AsyncSession, settings: Settings, token: str | None
) -> Authenticated:
    """The active user an access token belongs to. Used by REST and WebSocket alike."""
    if not token:
        raise TokenMissing
    claims = decode_token(key=settings.signing_key, token=token, expected=TokenType.access)
    user = await session.get(User, claims.user_id)
    if user is None:
        raise TokenInvalid
    if not user.is_active:
        raise AccountDisabled
    return Authenticated(user=user, claims=claims)


async def signup(*, db: Database, hasher: PasswordHasher, data: SignupRequest) -> User:
    async with db.session() as session:
        if await get_user_by_username(session, data.username) is not None:
            raise Conflict("Username already taken")
    password_hash = await hasher.hash(data.password)
    user = User(
        username=data.username,
        username_key=data.username.lower(),
        display_name=data.display_name or data.username,
        password_hash=password_hash,
        is_admin=False,
        is_active=True,
        created_at=utcnow(),
    )
    try:
        async with db.writing() as session:
            session.add(user)
    except IntegrityError as exc:  # a concurrent signup took it between check and insert
        raise Conflict("Username already taken") from exc
    return user


async def login(
    *,
    db: Database,
    hasher: PasswordHasher,
    throttle: LoginThrottle,
    settings: Settings,
    username: str,
    password: str,
) -> TokenPair:
    key = throttle_key(username)
    failures = await throttle.check(key)
    async with db.session() as session:
        user = await get_user_by_username(session, username)
    too_long = len(password) > MAX_PASSWORD_LENGTH
    matches, new_hash = await hasher.verify(
        password[:MAX_PASSWORD_LENGTH], None if user is None or too_long else user.password_hash
    )
    if user is None or not matches:
        await throttle.record_failure(key)
        raise NotAuthenticated("Incorrect username or password")
    if not user.is_active:
        raise Forbidden("Account deactivated")
    if failures:
        await throttle.clear(key)
    async with db.writing() as session:
        if new_hash is not None:
            await session.execute(update(User).where(User.id == user.id).values(password_hash=new_hash))
        return _issue_pair(session, settings, user.id, family=uuid.uuid4().hex)


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
        await _revoke_family(session, row.family)
        return None
    user = await session.get(User, claims.user_id)
    if user is None or not user.is_active:
        raise NotAuthenticated("Invalid refresh token")
    return _issue_pair(session, settings, user.id, family=row.family)


async def logout(*, db: Database, settings: Settings, refresh_token: str) -> None:
    """Revoke the login `refresh_token` belongs to; an unusable token is ignored (RFC 7009)."""
    try:
        claims = _refresh_claims(settings, refresh_token)
    except NotAuthenticated:
        return
    async with db.writing() as session:
        row = await session.scalar(select(RefreshToken).where(RefreshToken.jti_hash == claims.jti_hash))
        if row is not None and row.user_id == claims.user_id:
            await _revoke_family(session, row.family)


async def revoke_user_tokens(session: AsyncSession, user_id: int) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


async def _revoke_family(session: AsyncSession, family: str) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family == family, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def _refresh_claims(settings: Settings, token: str) -> TokenClaims:
    try:
        return decode_token(key=settings.signing_key, token=token, expected=TokenType.refresh)
    except AuthError as exc:
        raise NotAuthenticated("Invalid or expired refresh token") from exc


def _issue_pair(session: AsyncSession, settings: Settings, user_id: int, *, family: str) -> TokenPair:
    access, _ = issue_token(
        key=settings.signing_key,
        user_id=user_id,
        type=TokenType.access,
        lifetime=settings.access_token_lifetime,
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
