from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import ContextDep, CurrentUser, SessionDep
from api.errors import Conflict, Forbidden, NotAuthenticated, NotFound, error_responses
from api.pagination import Limit, Offset, Search
from api.realtime.protocol import BANNED, LEFT, REMOVED
from api.rooms import service
from api.rooms.dependencies import ManagedRoom, ReadableRoom, VisibleRoom
from api.rooms.schemas import (
    BanPublic,
    BanRequest,
    InviteRequest,
    MemberPublic,
    MembershipPublic,
    RoleUpdate,
    RoomCreate,
    RoomPublic,
    RoomUpdate,
)

router = APIRouter(prefix="/api/rooms", tags=["rooms"], responses=error_responses(NotAuthenticated))

ROOM_ERRORS = error_responses(Forbidden, NotFound)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=RoomPublic,
    summary="Create a room",
    description="The creator becomes its owner. Names are unique ignoring case.",
    responses=error_responses(Conflict),
)
async def create_room(data: RoomCreate, user: CurrentUser, context: ContextDep) -> RoomPublic:
    room = await service.create_room(db=context.db, owner=user, data=data)
    await context.events.room_created(room, user.id)
    return room


@router.get(
    "",
    response_model=list[RoomPublic],
    summary="List rooms",
    description="Public rooms and the caller's private rooms, newest first.",
)
async def list_rooms(
    user: CurrentUser, session: SessionDep, q: Search = None, limit: Limit = 100, offset: Offset = 0
) -> list[RoomPublic]:
    return await service.list_rooms(session, user=user, q=q, limit=limit, offset=offset)


@router.get(
    "/{room_id}",
    response_model=RoomPublic,
    summary="Read a room",
    description="Public rooms, or private ones the caller belongs to.",
    responses=error_responses(NotFound),
)
async def read_room(access: VisibleRoom, session: SessionDep) -> RoomPublic:
    return await service.room_public(session, access.room.id)


@router.patch(
    "/{room_id}",
    response_model=RoomPublic,
    summary="Change a room",
    description="Owners, room admins and site admins.",
    responses=error_responses(Forbidden, NotFound, Conflict),
)
async def update_room(data: RoomUpdate, access: ManagedRoom, context: ContextDep) -> RoomPublic:
    if not (access.is_manager or access.user.is_admin):
        raise Forbidden("Only the room's owners and admins, or a site admin, can change it")
    room, roles = await service.update_room(
        db=context.db, actor_id=access.user.id, room_id=access.room.id, data=data
    )
    await context.events.room_updated(room, roles)
    return room


@router.delete(
    "/{room_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a room",
    description="Owners and site admins. Its memberships and messages go too; live connections close (4404).",
    responses=ROOM_ERRORS,
)
async def delete_room(access: VisibleRoom, context: ContextDep) -> None:
    if not (access.role == "owner" or access.user.is_admin):
        raise Forbidden("Only an owner or a site admin can delete a room")
    members = await service.delete_room(db=context.db, actor_id=access.user.id, room_id=access.room.id)
    await context.events.room_deleted(access.room.id, members)


@router.post(
    "/{room_id}/join",
    response_model=MembershipPublic,
    summary="Join a public room",
    description="Also 200 when already a member. Private rooms are joined by invitation.",
    responses=ROOM_ERRORS,
)
async def join_room(access: ManagedRoom, context: ContextDep) -> MembershipPublic:
    membership, joined = await service.join_room(db=context.db, access=access)
    if joined is not None:
        await context.events.member_added(joined, membership.user, membership.role)
    return membership


@router.post(
    "/{room_id}/leave",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Leave a room",
    description="The caller's live connections to the room close (1008 `left`). The last owner cannot leave.",
    responses=error_responses(Forbidden, NotFound, Conflict),
)
async def leave_room(access: ManagedRoom, context: ContextDep) -> None:
    removed = await service.remove_member(db=context.db, access=access, user_id=str(access.user.id))
    await context.events.member_removed(access.room.id, removed, LEFT)


@router.get(
    "/{room_id}/members",
    response_model=list[MemberPublic],
    summary="List members",
    description="With who is connected now (`online`).",
    responses=ROOM_ERRORS,
)
async def list_members(access: ReadableRoom, session: SessionDep, context: ContextDep) -> list[MemberPublic]:
    online = {user.id for user in await context.hub.presence.online(access.room.id)}
    return await service.list_members(session, room_id=access.room.id, online=online)


@router.post(
    "/{room_id}/members",
    status_code=status.HTTP_201_CREATED,
    response_model=MembershipPublic,
    summary="Invite a user",
    description="Owners and room admins; the way into a private room. Only owners make owners.",
    responses=error_responses(Forbidden, NotFound, Conflict),
)
async def invite(data: InviteRequest, access: ManagedRoom, context: ContextDep) -> MembershipPublic:
    membership, room = await service.invite(db=context.db, access=access, data=data)
    await context.events.member_added(room, membership.user, membership.role)
    return membership


@router.patch(
    "/{room_id}/members/{user_id}",
    response_model=MembershipPublic,
    summary="Change a member's role",
    description="Owners set any role; room admins switch members and admins. Nobody demotes the last owner.",
    responses=error_responses(Forbidden, NotFound, Conflict),
)
async def change_role(
    user_id: str, data: RoleUpdate, access: ManagedRoom, context: ContextDep
) -> MembershipPublic:
    membership, room = await service.change_role(
        db=context.db, access=access, user_id=user_id, role=data.role
    )
    await context.events.role_changed(room, membership.user, membership.role)
    return membership


@router.delete(
    "/{room_id}/members/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a member (kick), or leave",
    description=(
        "Owners and room admins kick (1008 `removed`); a user removing themself leaves (1008 `left`). "
        "A kicked user may join a public room again."
    ),
    responses=error_responses(Forbidden, NotFound, Conflict),
)
async def remove_member(user_id: str, access: ManagedRoom, context: ContextDep) -> None:
    removed = await service.remove_member(db=context.db, access=access, user_id=user_id)
    reason = LEFT if removed.id == access.user.id else REMOVED
    await context.events.member_removed(access.room.id, removed, reason)


@router.get(
    "/{room_id}/bans",
    response_model=list[BanPublic],
    summary="List bans",
    description="Owners and room admins.",
    responses=ROOM_ERRORS,
)
async def list_bans(access: ManagedRoom, session: SessionDep) -> list[BanPublic]:
    return await service.list_bans(session, access=access)


@router.post(
    "/{room_id}/bans",
    status_code=status.HTTP_201_CREATED,
    response_model=BanPublic,
    summary="Ban a user",
    description=(
        "Owners and room admins. Removes the membership, closes the user's live connections "
        "(1008 `banned`) and keeps them out (join and invite give 403) until lifted."
    ),
    responses=ROOM_ERRORS,
)
async def ban(data: BanRequest, access: ManagedRoom, context: ContextDep) -> BanPublic:
    banned, was_member = await service.ban(db=context.db, access=access, user_id=data.user_id)
    if was_member:
        await context.events.member_removed(access.room.id, banned.user, BANNED)
    return banned


@router.delete(
    "/{room_id}/bans/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Lift a ban",
    description="Owners and room admins.",
    responses=ROOM_ERRORS,
)
async def unban(user_id: str, access: ManagedRoom, context: ContextDep) -> None:
    await service.unban(db=context.db, access=access, user_id=user_id)
