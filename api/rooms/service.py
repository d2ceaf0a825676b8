"""Rooms, memberships and bans, free of HTTP. Every change runs in one write transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from sqlalchemy import ScalarSelect, delete, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from api.audit.models import AuditAction
from api.audit.service import record
from api.auth.models import User
from api.auth.schemas import UserSummary
from api.db import Database, utcnow
from api.errors import Conflict, Forbidden, NotFound
from api.ids import parse_id
from api.rooms.models import Membership, Role, Room, RoomBan, RoomKind
from api.rooms.schemas import (
    BanPublic,
    InviteRequest,
    MemberPublic,
    MembershipPublic,
    MemberUser,
    RoomCreate,
    RoomPublic,
    RoomUpdate,
)

ROOM_NOT_FOUND = "Room not found"
MANAGERS = frozenset({Role.owner, Role.admin})


class Viewer(Protocol):
    """Who is looking: a User, or the light copy a WebSocket session keeps of one."""

    @property
    def id(self) -> int: ...
    @property
    def username(self) -> str: ...
    @property
    def display_name(self) -> str: ...
    @property
    def is_admin(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class RoomAccess:
    """A room as one user may see it: their membership (if any) and whether they are banned."""

    room: Room
    user: Viewer
    role: Role | None
    banned: bool

    @property
    def is_member(self) -> bool:
        return self.role is not None

    @property
    def is_manager(self) -> bool:
        return self.role in MANAGERS


async def get_room_access(session: AsyncSession, *, room_id: str | int, user: Viewer) -> RoomAccess:
    """The room if `user` may know it exists: public, a member, or a site admin."""
    parsed = parse_id(room_id)
    if parsed is None:
        raise NotFound(ROOM_NOT_FOUND)
    row = (
        await session.execute(
            select(Room, Membership.role, RoomBan.user_id)
            .outerjoin(Membership, (Membership.room_id == Room.id) & (Membership.user_id == user.id))
            .outerjoin(RoomBan, (RoomBan.room_id == Room.id) & (RoomBan.user_id == user.id))
            .where(Room.id == parsed)
        )
    ).first()
    if row is None:
        raise NotFound(ROOM_NOT_FOUND)
    room, role, banned_id = row
    access = RoomAccess(room=room, user=user, role=Role(role) if role else None, banned=banned_id is not None)
    if room.is_private and not access.is_member and not user.is_admin:
        raise NotFound(ROOM_NOT_FOUND)
    return access


def member_count() -> ScalarSelect[int]:
    # An alias of its own: a query that also joins memberships must not correlate with it.
    counted = aliased(Membership)
    return select(func.count()).select_from(counted).where(counted.room_id == Room.id).scalar_subquery()


def public(room: Room, member_count: int) -> RoomPublic:
    return RoomPublic(
        id=room.id,
        kind=RoomKind(room.kind),
        name=room.name,
        description=room.description,
        is_private=room.is_private,
        created_at=room.created_at,
        member_count=member_count,
        last_seq=room.last_seq,
        last_rev=room.last_rev,
    )


async def room_public(session: AsyncSession, room_id: int) -> RoomPublic:
    row = (await session.execute(select(Room, member_count()).where(Room.id == room_id))).first()
    if row is None:
        raise NotFound(ROOM_NOT_FOUND)
    return public(*row)


async def rooms_public(session: AsyncSession, room_ids: Iterable[int]) -> dict[int, RoomPublic]:
    rows = await session.execute(select(Room, member_count()).where(Room.id.in_(set(room_ids))))
    return {room.id: public(room, count) for room, count in rows.all()}


async def list_rooms(
    session: AsyncSession, *, user: User | None, q: str | None, limit: int, offset: int
) -> list[RoomPublic]:
    """Newest first. With a user: public rooms and that user's private ones, but no direct
    rooms (`GET /api/me/rooms` lists those); without: all."""
    query = select(Room, member_count())
    if user is not None:
        is_member = exists().where(Membership.room_id == Room.id, Membership.user_id == user.id)
        query = query.where(~Room.is_private | is_member, Room.kind == RoomKind.room)
    if q:
        query = query.where(Room.name_key.contains(q.lower(), autoescape=True))
    query = query.order_by(Room.created_at.desc(), Room.id.desc()).limit(limit).offset(offset)
    return [public(room, count) for room, count in (await session.execute(query)).all()]


async def create_room(*, db: Database, owner: User, data: RoomCreate) -> RoomPublic:
    now = utcnow()
    room = Room(
        name=data.name,
        name_key=data.name.lower(),
        description=data.description,
        is_private=data.is_private,
        created_at=now,
        last_seq=0,
        last_rev=0,
    )
    try:
        async with db.writing() as session:
            session.add(room)
            await session.flush()
            session.add(
                Membership(room_id=room.id, user_id=owner.id, role=Role.owner, joined_at=now, read_seq=0)
            )
    except IntegrityError as exc:
        raise Conflict("A room with that name already exists") from exc
    return public(room, member_count=1)


async def update_room(
    *, db: Database, actor_id: int, room_id: int, data: RoomUpdate
) -> tuple[RoomPublic, list[tuple[int, str]]]:
    """The room as changed, and its members' (user id, role), who all hear of it."""
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    if "name" in changes:
        changes["name_key"] = changes["name"].lower()
    try:
        async with db.writing() as session:
            room = await session.get(Room, room_id)
            if room is None:
                raise NotFound(ROOM_NOT_FOUND)
            changed = {
                field: {"from": getattr(room, field), "to": value}
                for field, value in changes.items()
                if field != "name_key" and getattr(room, field) != value
            }
            for field, value in changes.items():
                setattr(room, field, value)
            if changed:
                record(
                    session,
                    actor_id=actor_id,
                    action=AuditAction.room_update,
                    room_id=room_id,
                    detail=changed,
                )
            await session.flush()
            return await room_public(session, room_id), await member_roles(session, room_id)
    except IntegrityError as exc:
        raise Conflict("A room with that name already exists") from exc


async def delete_room(*, db: Database, actor_id: int, room_id: int) -> list[int]:
    """Delete the room; the ids of the members it had, who all hear of it."""
    async with db.writing() as session:
        members = [user_id for user_id, _ in await member_roles(session, room_id)]
        name = await session.scalar(delete(Room).where(Room.id == room_id).returning(Room.name))
        if name is not None:
            record(
                session,
                actor_id=actor_id,
                action=AuditAction.room_delete,
                room_id=room_id,
                detail={"name": name},
            )
        return members


async def member_roles(session: AsyncSession, room_id: int) -> list[tuple[int, str]]:
    rows = await session.execute(
        select(Membership.user_id, Membership.role).where(Membership.room_id == room_id)
    )
    return [(user_id, role) for user_id, role in rows.all()]


async def join_room(*, db: Database, access: RoomAccess) -> tuple[MembershipPublic, RoomPublic | None]:
    """The caller's membership, and the room as joined when the membership is new."""
    if access.banned:
        raise Forbidden("You are banned from this room")
    if access.room.is_private and not access.is_member:
        # Only site admins get here; the way into a private room is an invite.
        raise NotFound(ROOM_NOT_FOUND)
    async with db.writing() as session:
        access = await _lock(session, access)
        membership = await session.get(Membership, (access.room.id, access.user.id))
        if membership is not None:
            return MembershipPublic.model_validate(membership), None
        if await _is_banned(session, access.room.id, access.user.id):
            raise Forbidden("You are banned from this room")
        membership = Membership(
            room_id=access.room.id,
            user_id=access.user.id,
            role=Role.member,
            joined_at=utcnow(),
            read_seq=await _last_seq(session, access.room.id),
        )
        session.add(membership)
        await session.flush()
        await session.refresh(membership, ["user"])
        return MembershipPublic.model_validate(membership), await room_public(session, access.room.id)


async def invite(
    *, db: Database, access: RoomAccess, data: InviteRequest
) -> tuple[MembershipPublic, RoomPublic]:
    """The new membership, and the room as it is with it."""
    _require_manager(access)
    async with db.writing() as session:
        access = await _lock(session, access)
        _require_manager(access)
        if data.role == Role.owner and access.role != Role.owner:
            raise Forbidden("Only an owner can make another owner")
        target = await session.scalar(select(User).where(User.username_key == data.username.lower()))
        if target is None:
            raise NotFound("User not found")
        if await _is_banned(session, access.room.id, target.id):
            raise Forbidden("That user is banned from this room")
        if await session.get(Membership, (access.room.id, target.id)) is not None:
            raise Conflict("That user is already a member")
        membership = Membership(
            room_id=access.room.id,
            user_id=target.id,
            role=data.role,
            joined_at=utcnow(),
            read_seq=await _last_seq(session, access.room.id),
        )
        session.add(membership)
        await session.flush()
        await session.refresh(membership, ["user"])
        return MembershipPublic.model_validate(membership), await room_public(session, access.room.id)


async def change_role(
    *, db: Database, access: RoomAccess, user_id: str, role: Role
) -> tuple[MembershipPublic, RoomPublic]:
    """The changed membership, and its room."""
    _require_manager(access)
    async with db.writing() as session:
        access = await _lock(session, access)
        _require_manager(access)
        target = await _target_membership(session, access.room.id, user_id)
        _check_may_act_on(access, Role(target.role), new_role=role)
        if target.role == Role.owner and role != Role.owner:
            await _keep_an_owner(session, access.room.id)
        if target.role != role:
            record(
                session,
                actor_id=access.user.id,
                action=AuditAction.role_change,
                room_id=access.room.id,
                target_id=target.user_id,
                detail={"from": target.role, "to": role},
            )
        target.role = role
        await session.flush()
        return MembershipPublic.model_validate(target), await room_public(session, access.room.id)


async def remove_member(*, db: Database, access: RoomAccess, user_id: str) -> UserSummary:
    """Kick someone, or leave when `user_id` is the caller. Returns who was removed."""
    if not access.is_member:
        raise Forbidden("Members only")
    target_id = parse_id(user_id)
    if target_id != access.user.id:
        _require_manager(access)
    async with db.writing() as session:
        access = await _lock(session, access)
        if target_id != access.user.id:
            _require_manager(access)
        target = await _target_membership(session, access.room.id, user_id)
        if target_id != access.user.id:
            _check_may_act_on(access, Role(target.role))
        if target.role == Role.owner:
            await _keep_an_owner(session, access.room.id)
        if target_id != access.user.id:
            record(
                session,
                actor_id=access.user.id,
                action=AuditAction.kick,
                room_id=access.room.id,
                target_id=target.user_id,
                detail={"role": target.role},
            )
        await session.delete(target)
        return UserSummary.model_validate(target.user)


async def list_members(
    session: AsyncSession, *, room_id: int, online: set[int] | frozenset[int]
) -> list[MemberPublic]:
    memberships = (
        await session.scalars(
            select(Membership)
            .where(Membership.room_id == room_id)
            .order_by(Membership.joined_at, Membership.user_id)
        )
    ).all()
    return [
        MemberPublic(
            user=MemberUser.model_validate(m.user),
            role=Role(m.role),
            joined_at=m.joined_at,
            online=m.user_id in online,
        )
        for m in memberships
    ]


async def list_bans(session: AsyncSession, *, access: RoomAccess) -> list[BanPublic]:
    _require_manager(access)
    bans: Sequence[RoomBan] = (
        await session.scalars(
            select(RoomBan).where(RoomBan.room_id == access.room.id).order_by(RoomBan.banned_at)
        )
    ).all()
    return [BanPublic.model_validate(ban) for ban in bans]


async def ban(*, db: Database, access: RoomAccess, user_id: int) -> tuple[BanPublic, bool]:
    """Ban a user (a member or not); idempotent. Removes their membership, and says
    whether there was one."""
    _require_manager(access)
    if user_id == access.user.id:
        raise Forbidden("You cannot ban yourself")
    async with db.writing() as session:
        access = await _lock(session, access)
        _require_manager(access)
        target = await session.get(User, user_id) if parse_id(user_id) is not None else None
        if target is None:
            raise NotFound("User not found")
        membership = await session.get(Membership, (access.room.id, user_id))
        was_member = membership is not None
        if membership is not None:
            _check_may_act_on(access, Role(membership.role))
            await session.delete(membership)
        existing = await session.get(RoomBan, (access.room.id, user_id))
        if existing is None:
            existing = RoomBan(
                room_id=access.room.id,
                user_id=user_id,
                banned_by_id=access.user.id,
                banned_at=utcnow(),
            )
            session.add(existing)
            record(
                session,
                actor_id=access.user.id,
                action=AuditAction.ban,
                room_id=access.room.id,
                target_id=user_id,
                detail={"was_member": was_member},
            )
            await session.flush()
            await session.refresh(existing, ["user", "banned_by"])
        return BanPublic.model_validate(existing), was_member


async def unban(*, db: Database, access: RoomAccess, user_id: str) -> None:
    _require_manager(access)
    target_id = parse_id(user_id)
    async with db.writing() as session:
        access = await _lock(session, access)
        _require_manager(access)
        existing = await session.get(RoomBan, (access.room.id, target_id)) if target_id else None
        if existing is None:
            raise NotFound("That user is not banned here")
        await session.delete(existing)
        record(
            session,
            actor_id=access.user.id,
            action=AuditAction.unban,
            room_id=access.room.id,
            target_id=target_id,
        )


async def _lock(session: AsyncSession, access: RoomAccess) -> RoomAccess:
    """Lock the room's row until commit and return `access` as it is now.

    Membership changes in one room take turns, and each decides on the caller's role as it
    stands inside its own transaction, not as the request read it: otherwise two owners
    demoting, kicking or banning each other at once would both succeed and leave the room
    without an owner, and a ban could race a join. SQLite's write lock already makes writers
    take turns, and renders no FOR UPDATE.
    """
    if await session.scalar(select(Room.id).where(Room.id == access.room.id).with_for_update()) is None:
        raise NotFound(ROOM_NOT_FOUND)
    membership = await session.get(Membership, (access.room.id, access.user.id))
    return replace(access, role=Role(membership.role) if membership else None)


async def _last_seq(session: AsyncSession, room_id: int) -> int:
    """Where a new membership's read cursor starts: everything before it counts as read."""
    return await session.scalar(select(Room.last_seq).where(Room.id == room_id)) or 0


async def _is_banned(session: AsyncSession, room_id: int, user_id: int) -> bool:
    return await session.get(RoomBan, (room_id, user_id)) is not None


async def _target_membership(session: AsyncSession, room_id: int, user_id: str) -> Membership:
    target_id = parse_id(user_id)
    membership = await session.get(Membership, (room_id, target_id)) if target_id else None
    if membership is None:
        raise NotFound("That user is not a member of this room")
    return membership


async def _keep_an_owner(session: AsyncSession, room_id: int) -> None:
    owners = await session.scalar(
        select(func.count()).where(Membership.room_id == room_id, Membership.role == Role.owner)
    )
    if (owners or 0) <= 1:
        raise Conflict("The room would have no owner: make someone else an owner first, or delete the room")


def _require_manager(access: RoomAccess) -> None:
    if not access.is_member:
        raise Forbidden("Members only")
    if not access.is_manager:
        raise Forbidden("Only the room's owners and admins can do this")


def _check_may_act_on(access: RoomAccess, target_role: Role, new_role: Role | None = None) -> None:
    if access.role == Role.owner:
        return
    if target_role == Role.owner or new_role == Role.owner:
        raise Forbidden("A room admin cannot act on an owner")


async def roles_of(session: AsyncSession, *, user_id: int) -> list[tuple[int, Role]]:
    """Every room `user_id` belongs to, with their role in it."""
    rows = await session.execute(
        select(Membership.room_id, Membership.role).where(Membership.user_id == user_id)
    )
    return [(room_id, Role(role)) for room_id, role in rows.all()]
