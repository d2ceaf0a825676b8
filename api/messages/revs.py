"""Taking a room's next rev: how every change to a room's messages is numbered.

New messages take theirs in the writer's batch UPDATE; edits, deletes and reactions take
one here, in their own write transaction, before they touch the message. The UPDATE locks
the room's row on PostgreSQL until commit (SQLite's write lock does the same), so changes
to one room take turns and commit in rev order: a committed rev means every lower rev of
the room is committed too, which is what lets the hub fill a gap from the database.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import NotFound
from api.rooms.models import Room

ROOM_NOT_FOUND = "Room not found"


async def take_rev(session: AsyncSession, room_id: int) -> int:
    """The room's next rev, in the caller's write transaction; a rollback gives it back."""
    rev: int | None = await session.scalar(
        update(Room).where(Room.id == room_id).values(last_rev=Room.last_rev + 1).returning(Room.last_rev)
    )
    if rev is None:
        raise NotFound(ROOM_NOT_FOUND)
    return rev


async def lock_room(session: AsyncSession, room_id: int) -> None:
    """Take the room's turn without a rev yet: for a change that may turn out to be none
    (a reaction one already has), decided after reading the message under the lock."""
    if await session.scalar(select(Room.id).where(Room.id == room_id).with_for_update()) is None:
        raise NotFound(ROOM_NOT_FOUND)
