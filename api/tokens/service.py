"""API tokens, free of HTTP: made, listed, revoked, and found by their text.

`create_token` and `revoke_token` are a user's own (`/api/me/tokens`), each one write
transaction. The functions taking a session work inside the caller's transaction instead,
so that an audit entry (a bot's tokens) or a deactivation commits with them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.exceptions import TokenExpired, TokenInvalid, TokenRevoked
from api.auth.models import User
from api.db import Database, utcnow
from api.errors import NotFound
from api.ids import parse_id
from api.tokens import codec
from api.tokens.models import ApiToken
from api.tokens.schemas import ApiTokenCreate, ApiTokenCreated, ApiTokenPublic


def _live(now: datetime) -> ColumnElement[bool]:
    return and_(ApiToken.revoked_at.is_(None), or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now))


async def create_token(*, db: Database, user_id: int, data: ApiTokenCreate) -> ApiTokenCreated:
    async with db.writing() as session:
        return await add_token(session, user_id=user_id, data=data)


async def revoke_token(*, db: Database, user_id: int, token_id: str) -> int:
    """Revoke one of the user's tokens; its id. The caller closes its connections."""
    async with db.writing() as session:
        return (await revoke_in(session, user_id=user_id, token_id=token_id)).id


async def add_token(session: AsyncSession, *, user_id: int, data: ApiTokenCreate) -> ApiTokenCreated:
    """A new token of the user, in the caller's transaction; the only time its text is seen."""
    now = utcnow()
    token = codec.new_token()
    row = ApiToken(
        user_id=user_id,
        name=data.name,
        secret_hash=codec.secret_hash(token),
        created_at=now,
        expires_at=None if data.expires_days is None else now + timedelta(days=data.expires_days),
    )
    session.add(row)
    await session.flush()
    return ApiTokenCreated(**ApiTokenPublic.model_validate(row).model_dump(), token=token)


async def listing(session: AsyncSession, *, user_id: int) -> list[ApiTokenPublic]:
    """The user's tokens that still work, newest first."""
    rows = await session.scalars(
        select(ApiToken).where(ApiToken.user_id == user_id, _live(utcnow())).order_by(ApiToken.id.desc())
    )
    return [ApiTokenPublic.model_validate(row) for row in rows]


class Revoked(NamedTuple):
    id: int
    name: str


async def revoke_in(session: AsyncSession, *, user_id: int, token_id: str) -> Revoked:
    """Revoke one of the user's tokens for good. Unknown, malformed, already revoked ids and
    other users' tokens are 404; an expired token can still be revoked (and leaves no trace
    of working)."""
    revoked = await session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == (parse_id(token_id) or 0),
            ApiToken.user_id == user_id,
            ApiToken.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
        .returning(ApiToken.id, ApiToken.name)
    )
    row = revoked.one_or_none()
    if row is None:
        raise NotFound("Token not found")
    return Revoked(*row)


async def revoke_all(session: AsyncSession, *, user_id: int) -> None:
    """Revoke every token of the user that is not revoked yet."""
    await session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


async def find(session: AsyncSession, token: str) -> tuple[ApiToken, User]:
    """The token `token` is, with its user, when it may still be used; the user's own state
    (deactivated) is the caller's to check. One query, on the unique hash."""
    if not codec.well_formed(token):
        raise TokenInvalid
    row = (
        await session.execute(
            select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.secret_hash == codec.secret_hash(token))
        )
    ).first()
    if row is None:
        raise TokenInvalid
    api_token, user = row
    return api_token, user


def check_usable(api_token: ApiToken) -> None:
    if api_token.revoked_at is not None:
        raise TokenRevoked
    if api_token.expires_at is not None and api_token.expires_at <= utcnow():
        raise TokenExpired


async def revoked_among(session: AsyncSession, token_ids: set[int]) -> set[int]:
    """Which of these tokens no longer work (revoked, or gone with their user)."""
    if not token_ids:
        return set()
    working = set(
        await session.scalars(
            select(ApiToken.id).where(ApiToken.id.in_(token_ids), ApiToken.revoked_at.is_(None))
        )
    )
    return token_ids - working
