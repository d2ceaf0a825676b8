"""Login sessions: one per login (a refresh-token family), listed and ended by their user.

A session is live while one of its refresh tokens still works (not spent, revoked or
expired), so whatever revokes refresh tokens (logout, logout-all, a password change, a
deactivation, reuse detection) ends the sessions it leaves without one.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime

from sqlalchemy import ColumnElement, exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.models import LoginSession, RefreshToken
from api.auth.schemas import SessionPublic
from api.db import Database, utcnow
from api.errors import NotFound
from api.ids import parse_id

MAX_USER_AGENT = 255


def clean_user_agent(raw: str | None) -> str | None:
    """A User-Agent header as it is stored and shown: one line of printable text, at most
    255 characters, or None. Headers arrive as Latin-1; UTF-8 sent raw is read as UTF-8."""
    if not raw:
        return None
    try:
        text = raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        text = raw
    # Control and format characters (bidi overrides, zero-width marks) could disguise one
    # device as another in a list people trust to spot a stranger's login.
    kept = "".join(
        " " if c.isspace() else c for c in text if c.isspace() or unicodedata.category(c)[0] != "C"
    )
    return " ".join(kept.split())[:MAX_USER_AGENT] or None


def start_session(
    session: AsyncSession, *, user_id: int, family: str, user_agent: str | None
) -> LoginSession:
    now = utcnow()
    login = LoginSession(
        user_id=user_id,
        family=family,
        user_agent=clean_user_agent(user_agent),
        created_at=now,
        last_used_at=now,
    )
    session.add(login)
    return login


async def touch_session(session: AsyncSession, family: str) -> int:
    """A refresh: the session's id, its last use set to now."""
    login = await session.scalar(select(LoginSession).where(LoginSession.family == family))
    assert login is not None  # every family has its session (a foreign key)
    login.last_used_at = utcnow()
    return login.id


def _live(now: datetime) -> ColumnElement[bool]:
    return exists().where(
        RefreshToken.family == LoginSession.family,
        RefreshToken.revoked_at.is_(None),
        RefreshToken.spent_at.is_(None),
        RefreshToken.expires_at > now,
    )


async def list_sessions(session: AsyncSession, *, user_id: int, current: int | None) -> list[SessionPublic]:
    logins = await session.scalars(
        select(LoginSession)
        .where(LoginSession.user_id == user_id, _live(utcnow()))
        .order_by(LoginSession.last_used_at.desc(), LoginSession.id.desc())
    )
    return [
        SessionPublic(
            id=login.id,
            created_at=login.created_at,
            last_used_at=login.last_used_at,
            user_agent=login.user_agent,
            current=login.id == current,
        )
        for login in logins
    ]


async def end_session(*, db: Database, user_id: int, session_id: str) -> None:
    """Revoke the refresh tokens of one of the user's live sessions; any other id is 404."""
    target = parse_id(session_id)
    async with db.writing() as session:
        family = await session.scalar(
            select(LoginSession.family).where(
                LoginSession.id == (target or 0), LoginSession.user_id == user_id, _live(utcnow())
            )
        )
        if family is None:
            raise NotFound("Session not found")
        await revoke_family(session, family)


async def revoke_family(session: AsyncSession, family: str) -> None:
    """End one login: every refresh token of the family stops working."""
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family == family, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
