from __future__ import annotations

from fastapi import APIRouter, status

from api.admin import service
from api.admin.schemas import Stats, UserAdmin, UserAdminUpdate
from api.deps import ContextDep, SessionDep, SiteAdmin
from api.errors import Conflict, Forbidden, NotAuthenticated, NotFound, error_responses
from api.pagination import Limit, Offset, Search
from api.rooms import service as rooms
from api.rooms.schemas import RoomPublic

router = APIRouter(
    prefix="/api/admin", tags=["admin"], responses=error_responses(NotAuthenticated, Forbidden)
)


@router.get(
    "/users",
    response_model=list[UserAdmin],
    summary="List and search users",
    description="`q` filters by a case-insensitive substring of the username.",
)
async def list_users(
    _admin: SiteAdmin, session: SessionDep, q: Search = None, limit: Limit = 100, offset: Offset = 0
) -> list[UserAdmin]:
    return await service.list_users(session, q=q, limit=limit, offset=offset)


@router.patch(
    "/users/{user_id}",
    response_model=UserAdmin,
    summary="Deactivate, reactivate, grant or remove admin",
    description=(
        "Deactivating revokes the user's refresh tokens and closes their live connections "
        "(1008 `account_disabled`); their access tokens stop working at once."
    ),
    responses=error_responses(NotFound, Conflict),
)
async def update_user(
    user_id: str, data: UserAdminUpdate, admin: SiteAdmin, context: ContextDep
) -> UserAdmin:
    user, deactivated = await service.update_user(db=context.db, admin=admin, user_id=user_id, data=data)
    if deactivated:
        await context.events.account_disabled(user.id)
    return user


@router.get(
    "/rooms",
    response_model=list[RoomPublic],
    summary="List every room",
    description="Public and private, newest first.",
)
async def list_rooms(
    _admin: SiteAdmin, session: SessionDep, q: Search = None, limit: Limit = 100, offset: Offset = 0
) -> list[RoomPublic]:
    return await rooms.list_rooms(session, user=None, q=q, limit=limit, offset=offset)


@router.delete(
    "/rooms/{room_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete any room",
    description="Its memberships and messages go too; live connections close (4404 `room_deleted`).",
    responses=error_responses(NotFound),
)
async def delete_room(room_id: str, admin: SiteAdmin, context: ContextDep, session: SessionDep) -> None:
    access = await rooms.get_room_access(session, room_id=room_id, user=admin)
    await rooms.delete_room(db=context.db, actor_id=admin.id, room_id=access.room.id)
    await context.events.room_deleted(access.room.id)


@router.get("/stats", response_model=Stats, summary="Counts of users, rooms, messages and connections")
async def stats(_admin: SiteAdmin, session: SessionDep, context: ContextDep) -> Stats:
    return await service.stats(session, connections=await context.hub.connections_everywhere())
