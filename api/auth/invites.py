"""Invites: signup codes that site admins make, and the one way a signup spends a use."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta

from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.audit.models import AuditAction
from api.audit.service import record
from api.auth.models import Invite, User
from api.auth.schemas import InviteCreate, InvitePublic
from api.db import Database, utcnow
from api.errors import Forbidden, NotFound
from api.ids import parse_id

CODE_BYTES = 24  # 192 random bits
# token_urlsafe's alphabet and length: anything else cannot be a code, and is not looked up.
CODE_PATTERN = re.compile(r"[A-Za-z0-9_-]{32}")
INVALID_INVITE = "Signup needs a valid invite: ask an administrator"


def _live(now: object) -> ColumnElement[bool]:
    return and_(Invite.revoked_at.is_(None), Invite.expires_at > now, Invite.uses_left > 0)


async def create_invite(*, db: Database, admin: User, data: InviteCreate) -> InvitePublic:
    now = utcnow()
    invite = Invite(
        code=secrets.token_urlsafe(CODE_BYTES),
        created_by_id=admin.id,
        created_at=now,
        expires_at=now + timedelta(days=data.expires_days),
        uses_left=data.uses,
    )
    async with db.writing() as session:
        session.add(invite)
        await session.flush()
        record(
            session,
            actor_id=admin.id,
            action=AuditAction.invite_create,
            detail={
                "invite_id": invite.id,
                "expires_at": invite.expires_at.isoformat(),
                "uses": invite.uses_left,
            },
        )
    return InvitePublic.model_validate(invite)


async def list_invites(session: AsyncSession) -> list[InvitePublic]:
    invites = await session.scalars(select(Invite).where(_live(utcnow())).order_by(Invite.id.desc()))
    return [InvitePublic.model_validate(invite) for invite in invites]


async def revoke_invite(*, db: Database, admin: User, invite_id: str) -> None:
    """Unknown, malformed and already revoked ids are 404; an expired or used-up invite can
    still be revoked (it changes nothing but the record)."""
    target = parse_id(invite_id)
    async with db.writing() as session:
        revoked = await session.execute(
            update(Invite)
            .where(Invite.id == (target or 0), Invite.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        if revoked.rowcount != 1:  # type: ignore[attr-defined]
            raise NotFound("Invite not found")
        record(session, actor_id=admin.id, action=AuditAction.invite_revoke, detail={"invite_id": target})


async def check_invite(session: AsyncSession, code: str | None) -> None:
    """Refuse a signup early when `code` names no live invite; `spend_invite` decides for good."""
    if not _well_formed(code):
        raise Forbidden(INVALID_INVITE)
    if await session.scalar(select(Invite.id).where(Invite.code == code, _live(utcnow()))) is None:
        raise Forbidden(INVALID_INVITE)


async def spend_invite(session: AsyncSession, code: str | None) -> None:
    """Take one use of the invite inside the signup's write transaction: a signup that fails
    later rolls it back, and the conditional update lets only one of two racing signups take
    the last use (the other waits on the row, then finds none left)."""
    if not _well_formed(code):
        raise Forbidden(INVALID_INVITE)
    spent = await session.execute(
        update(Invite).where(Invite.code == code, _live(utcnow())).values(uses_left=Invite.uses_left - 1)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise Forbidden(INVALID_INVITE)


def _well_formed(code: str | None) -> bool:
    return code is not None and CODE_PATTERN.fullmatch(code) is not None
