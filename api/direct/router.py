from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.deps import ContextDep, CurrentUser
from api.direct import service
from api.direct.schemas import DirectRequest
from api.errors import NotAuthenticated, NotFound, error_responses
from api.rooms.schemas import RoomPublic

router = APIRouter(prefix="/api/direct", tags=["rooms"], responses=error_responses(NotAuthenticated))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=RoomPublic,
    summary="Open a direct room",
    description=(
        "The private room of the caller and `username` (the caller's own for a room with "
        "oneself): 201 when this call made it, 200 when it existed, whichever of the two "
        "opened it. Both are `member`s; its members, roles and settings never change."
    ),
    responses={
        200: {"model": RoomPublic, "description": "The direct room existed already"},
        **error_responses(NotFound),
    },
)
async def open_direct(
    data: DirectRequest, user: CurrentUser, context: ContextDep, response: Response
) -> RoomPublic:
    opened = await service.open_direct(db=context.db, user=user, username=data.username)
    if not opened.created:
        response.status_code = status.HTTP_200_OK
        return opened.room
    # The first time only: both people's /ws connections get `room_added`.
    await context.events.direct_opened(opened.room, opened.member_ids)
    return opened.room
