"""Direct rooms: one private room per pair of people, whichever of the two opens it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.models import User
from api.db import Database, utcnow
from api.errors import Conflict, NotFound
from api.rooms.models import Membership, Role, Room, RoomKind
from api.rooms.schemas import RoomPublic
from api.rooms.service import room_public

USER_NOT_FOUND = "User not found"


@dataclass(frozen=True, slots=True)
class OpenedDirect:
    room: RoomPublic
    created: bool
    # Its members (one id for a room with oneself), each with the role `member`.
    member_ids: tuple[int, ...]


def direct_name(*usernames: str) -> str:
    """The usernames sorted ignoring case, joined by ", "; one's own once."""
    return ", ".join(sorted(set(usernames), key=str.lower))


async def open_direct(*, db: Database, user: User, username: str) -> OpenedDirect:
    """The direct room of `user` and the active user named `username`, made the first time."""
    async with db.session() as session:
        other = await session.scalar(
            select(User).where(User.username_key == username.lower(), User.is_active)
        )
        if other is None:
            raise NotFound(USER_NOT_FOUND)
        # The usual case, and no write lock for it: the room exists already.
        opened = await _existing(session, user.id, other.id)
        if opened is not None:
            return opened
    try:
        return await _create(db, user, other)
    except IntegrityError as exc:
        # The other person opened it at the same moment, and the unique pair let theirs in.
        async with db.session() as session:
            opened = await _existing(session, user.id, other.id)
        if opened is None:
            raise Conflict("The direct room changed meanwhile; try again") from exc
        return opened


async def _create(db: Database, user: User, other: User) -> OpenedDirect:
    low, high = sorted((user.id, other.id))
    name = direct_name(user.username, other.username)
    now = utcnow()
    async with db.writing() as session:
        opened = await _existing(session, low, high)
        if opened is not None:
            return opened
        room = Room(
            kind=RoomKind.direct,
            name=name,
            name_key=name.lower(),
            description="",
            is_private=True,
            created_at=now,
            last_seq=0,
            direct_low_id=low,
            direct_high_id=high,
        )
        session.add(room)
        await session.flush()
        member_ids = _member_ids(low, high)
        session.add_all(
            Membership(room_id=room.id, user_id=member_id, role=Role.member, joined_at=now, read_seq=0)
            for member_id in member_ids
        )
        await session.flush()
        return OpenedDirect(await room_public(session, room.id), True, member_ids)


async def _existing(session: AsyncSession, first: int, second: int) -> OpenedDirect | None:
    low, high = sorted((first, second))
    room_id = await session.scalar(
        select(Room.id).where(Room.direct_low_id == low, Room.direct_high_id == high)
    )
    if room_id is None:
        return None
    return OpenedDirect(await room_public(session, room_id), False, _member_ids(low, high))


def _member_ids(low: int, high: int) -> tuple[int, ...]:
    return (low,) if low == high else (low, high)
