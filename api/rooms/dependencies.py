"""Rooms as dependencies: each validates one thing and chains on the last."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from api.deps import CurrentUser, SessionDep
from api.errors import Forbidden
from api.rooms.service import RoomAccess, get_room_access


async def visible_room(
    room_id: Annotated[str, Path(description="A room id; anything else is an unknown room (404)")],
    session: SessionDep,
    user: CurrentUser,
) -> RoomAccess:
    """The room, unless it is private and the caller neither belongs nor is a site admin (404)."""
    return await get_room_access(session, room_id=room_id, user=user)


VisibleRoom = Annotated[RoomAccess, Depends(visible_room)]


async def readable_room(access: VisibleRoom) -> RoomAccess:
    """Members read a room's members and history; so do site admins, who moderate."""
    if not (access.is_member or access.user.is_admin):
        raise Forbidden("Members only")
    return access


async def managed_room(access: VisibleRoom) -> RoomAccess:
    """A room whose members, roles, bans and settings can change: not a direct room, whose
    two members are fixed (403 to whoever may see it; the others got 404 already)."""
    if access.room.is_direct:
        raise Forbidden("A direct room's members and settings cannot change")
    return access


async def member_room(access: VisibleRoom) -> RoomAccess:
    if not access.is_member:
        raise Forbidden("Members only")
    return access


ReadableRoom = Annotated[RoomAccess, Depends(readable_room)]
MemberRoom = Annotated[RoomAccess, Depends(member_room)]
ManagedRoom = Annotated[RoomAccess, Depends(managed_room)]
