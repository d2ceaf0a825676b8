from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, status

from api.admin import service
from api.admin.schemas import (
    AnnouncementCreate,
    AnnouncementPublic,
    Stats,
    UserAdmin,
    UserAdminUpdate,
    UserCreate,
)
from api.auth import invites
from api.auth.schemas import InviteCreate, InvitePublic, UserSummary
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
    description=(
        "**Site admins.** Every account, active or not, by id; `q` filters by a case-insensitive "
        "substring of the username, `limit` and `offset` page. Changes nothing."
    ),
)
async def list_users(
    _admin: SiteAdmin, session: SessionDep, q: Search = None, limit: Limit = 100, offset: Offset = 0
) -> list[UserAdmin]:
    return await service.list_users(session, q=q, limit=limit, offset=offset)


@router.post(
    "/users",
    status_code=status.HTTP_201_CREATED,
    response_model=UserAdmin,
    summary="Create an account",
    description=(
        "**Site admins.** Makes an account whatever `SIGNUP` says; give the person their username "
        "and password. Touches no live connection. Written to the audit log (`user_create`)."
    ),
    responses=error_responses(Conflict),
)
async def create_user(data: UserCreate, admin: SiteAdmin, context: ContextDep) -> UserAdmin:
    return await service.create_user(db=context.db, hasher=context.hasher, admin=admin, data=data)


@router.patch(
    "/users/{user_id}",
    response_model=UserAdmin,
    summary="Deactivate, reactivate, grant or remove admin",
    description=(
        "**Site admins.** Send the fields to change. Deactivating revokes the user's refresh tokens "
        "and API tokens, their access tokens stop working at once, and their live connections on "
        "every worker close (1008 `account_disabled`); they cannot log in until reactivated. "
        "Reactivating lets them log in again; the tokens revoked stay revoked (a bot needs a new "
        "API token). Granting or removing admin rights takes effect from the user's next request; "
        "their open connections stay. Nobody can deactivate themself or remove their own admin "
        "rights, and a bot cannot be made a site admin (409). Each change is written to the audit log."
    ),
    responses=error_responses(NotFound, Conflict),
)
async def update_user(
    user_id: str,
    data: Annotated[
        UserAdminUpdate,
        Body(
            openapi_examples={
                "deactivate": {"summary": "Deactivate an account", "value": {"is_active": False}},
                "reactivate": {"summary": "Reactivate an account", "value": {"is_active": True}},
                "grant": {"summary": "Make a site admin", "value": {"is_admin": True}},
                "revoke": {"summary": "Remove admin rights", "value": {"is_admin": False}},
            }
        ),
    ],
    admin: SiteAdmin,
    context: ContextDep,
) -> UserAdmin:
    user, deactivated = await service.update_user(db=context.db, admin=admin, user_id=user_id, data=data)
    if deactivated:
        await context.events.account_disabled(user.id)
    return user


@router.get(
    "/rooms",
    response_model=list[RoomPublic],
    summary="List every room",
    description=(
        "**Site admins.** Public and private rooms, newest first; `q` filters by a case-insensitive "
        "substring of the name, `limit` and `offset` page. Changes nothing."
    ),
)
async def list_rooms(
    _admin: SiteAdmin, session: SessionDep, q: Search = None, limit: Limit = 100, offset: Offset = 0
) -> list[RoomPublic]:
    return await rooms.list_rooms(session, user=None, q=q, limit=limit, offset=offset)


@router.delete(
    "/rooms/{room_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete any room",
    description=(
        "**Site admins**, whether members or not. The room, its memberships, bans and messages are "
        "deleted for good; every live connection to it, on every worker, closes with 4404 "
        "`room_deleted`. Written to the audit log."
    ),
    responses=error_responses(NotFound),
)
async def delete_room(room_id: str, admin: SiteAdmin, context: ContextDep, session: SessionDep) -> None:
    access = await rooms.get_room_access(session, room_id=room_id, user=admin)
    members = await rooms.delete_room(db=context.db, actor_id=admin.id, room_id=access.room.id)
    await context.events.room_deleted(access.room.id, members)


@router.post(
    "/invites",
    status_code=status.HTTP_201_CREATED,
    response_model=InvitePublic,
    summary="Make an invite",
    description=(
        "**Site admins.** A random code that lets `uses` people sign up (default 1) for "
        "`expires_days` days (default 7): they send it as `invite` in their signup. Each successful "
        "signup takes one use; a failed one takes none. Written to the audit log (`invite_create`)."
    ),
)
async def create_invite(
    admin: SiteAdmin, context: ContextDep, data: InviteCreate | None = None
) -> InvitePublic:
    return await invites.create_invite(db=context.db, admin=admin, data=data or InviteCreate())


@router.get(
    "/invites",
    response_model=list[InvitePublic],
    summary="List live invites",
    description=(
        "**Site admins.** The invites that still work (not used up, not expired, not revoked), newest "
        "first, with their codes. Changes nothing."
    ),
)
async def list_invites(_admin: SiteAdmin, session: SessionDep) -> list[InvitePublic]:
    return await invites.list_invites(session)


@router.delete(
    "/invites/{invite_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke an invite",
    description=(
        "**Site admins.** Its code stops working at once; people who signed up with it keep their "
        "accounts. An unknown or already revoked invite is 404. Written to the audit log (`invite_revoke`)."
    ),
    responses=error_responses(NotFound),
)
async def revoke_invite(invite_id: str, admin: SiteAdmin, context: ContextDep) -> None:
    await invites.revoke_invite(db=context.db, admin=admin, invite_id=invite_id)


@router.get(
    "/stats",
    response_model=Stats,
    summary="Counts of users, rooms, messages and connections",
    description=(
        "**Site admins.** Accounts, rooms and stored messages in the database, and open WebSocket "
        "connections on every worker (exact for the worker answering, at most ten seconds old for "
        "the others). Changes nothing. `/metrics` has more, per worker."
    ),
)
async def stats(_admin: SiteAdmin, session: SessionDep, context: ContextDep) -> Stats:
    return await service.stats(session, connections=await context.hub.connections_everywhere())


@router.post(
    "/announcements",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=AnnouncementPublic,
    summary="Announce something to everyone connected",
    description=(
        "**Site admins.** Every open connection, room sockets and `/ws`, on every worker, gets "
        '`{"type": "announcement", "body", "from", "created_at"}` at once; it is not stored as a '
        "message, so people who connect later do not see it. The body follows the rules of "
        "message bodies (1–4000 characters after stripping, no control characters but newline "
        "and tab). Written to the audit log (`announcement`, with the body)."
    ),
)
async def announce(data: AnnouncementCreate, admin: SiteAdmin, context: ContextDep) -> AnnouncementPublic:
    created_at = await service.announce(db=context.db, admin=admin, body=data.body)
    sender = UserSummary.model_validate(admin)
    await context.events.announce(data.body, sender, created_at)
    return AnnouncementPublic(body=data.body, sender=sender, created_at=created_at)
