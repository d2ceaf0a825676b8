"""Site administration, free of HTTP."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.admin.schemas import Stats, UserAdmin, UserAdminUpdate, UserCreate
from api.audit.models import AuditAction
from api.audit.service import record
from api.auth.models import User
from api.auth.passwords import PasswordHasher
from api.auth.service import (
    add_user,
    ensure_username_free,
    new_user,
    revoke_access_tokens,
    revoke_user_tokens,
)
from api.db import Database, utcnow
from api.errors import Conflict, NotFound
from api.ids import parse_id
from api.messages.models import Message
from api.rooms.models import Room
from api.tokens import service as api_tokens


async def list_users(session: AsyncSession, *, q: str | None, limit: int, offset: int) -> list[UserAdmin]:
    query = select(User)
    if q:
        query = query.where(User.username_key.contains(q.lower(), autoescape=True))
    users = await session.scalars(query.order_by(User.id).limit(limit).offset(offset))
    return [UserAdmin.model_validate(user, from_attributes=True) for user in users]


async def update_user(
    *, db: Database, admin: User, user_id: str, data: UserAdminUpdate
) -> tuple[UserAdmin, bool]:
    """The updated user, and whether this change deactivated them."""
    target_id = parse_id(user_id)
    if target_id == admin.id and (data.is_active is False or data.is_admin is False):
        raise Conflict("You cannot deactivate yourself or remove your own admin rights")
    async with db.writing() as session:
        user = await session.get(User, target_id) if target_id else None
        if user is None:
            raise NotFound("User not found")
        if user.is_bot and data.is_admin:
            raise Conflict("A bot cannot be a site admin")
        deactivated = user.is_active and data.is_active is False
        for action in _audited_changes(user, data):
            record(session, actor_id=admin.id, action=action, target_id=user.id)
        if data.is_active is not None:
            user.is_active = data.is_active
        if data.is_admin is not None:
            user.is_admin = data.is_admin
        if deactivated:
            # Final for every token it revokes, also after a reactivation.
            await revoke_user_tokens(session, user.id)
            await revoke_access_tokens(session, user.id)
            await api_tokens.revoke_all(session, user_id=user.id)
        return UserAdmin.model_validate(user, from_attributes=True), deactivated


async def create_user(*, db: Database, hasher: PasswordHasher, admin: User, data: UserCreate) -> UserAdmin:
    """An account made by a site admin, whatever SIGNUP says."""
    async with hasher.turn():
        return await _create_user(db=db, hasher=hasher, admin=admin, data=data)


async def _create_user(*, db: Database, hasher: PasswordHasher, admin: User, data: UserCreate) -> UserAdmin:
    async with db.session() as session:
        await ensure_username_free(session, data.username)
    user = new_user(data, await hasher.hash(data.password), is_admin=data.is_admin)
    async with db.writing() as session:
        await add_user(session, user)
        record(
            session,
            actor_id=admin.id,
            action=AuditAction.user_create,
            target_id=user.id,
            detail={"is_admin": data.is_admin},
        )
    return UserAdmin.model_validate(user, from_attributes=True)


def _audited_changes(user: User, data: UserAdminUpdate) -> list[AuditAction]:
    actions = []
    if data.is_active is not None and data.is_active != user.is_active:
        actions.append(AuditAction.user_activate if data.is_active else AuditAction.user_deactivate)
    if data.is_admin is not None and data.is_admin != user.is_admin:
        actions.append(AuditAction.admin_grant if data.is_admin else AuditAction.admin_revoke)
    return actions


async def announce(*, db: Database, admin: User, body: str) -> datetime:
    """Record an announcement; when it was made. The caller sends it to every connection."""
    async with db.writing() as session:
        record(session, actor_id=admin.id, action=AuditAction.announcement, detail={"body": body})
    return utcnow()


async def stats(session: AsyncSession, *, connections: int) -> Stats:
    users = await session.scalar(select(func.count()).select_from(User))
    rooms = await session.scalar(select(func.count()).select_from(Room))
    messages = await session.scalar(select(func.count()).select_from(Message))
    return Stats(users=users or 0, rooms=rooms or 0, messages=messages or 0, connections=connections)
