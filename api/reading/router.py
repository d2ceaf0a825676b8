from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import ContextDep, CurrentUser, SessionDep
from api.errors import Forbidden, NotAuthenticated, NotFound, error_responses
from api.ids import MAX_SEQ
from api.reading import service
from api.reading.schemas import MentionsPage, MyRoom, ReadRequest, ReadState
from api.rooms.dependencies import MemberRoom

router = APIRouter(tags=["reading"], responses=error_responses(NotAuthenticated))


@router.put(
    "/api/rooms/{room_id}/read",
    response_model=ReadState,
    summary="Move your read cursor",
    description=(
        "A seq below the cursor leaves it where it is; one above the room's newest message stops "
        "there. Every connection of yours, on every worker, gets a `read` frame when it moves."
    ),
    responses=error_responses(Forbidden, NotFound),
)
async def mark_read(
    data: ReadRequest, access: MemberRoom, context: ContextDep, session: SessionDep
) -> ReadState:
    await session.close()  # hand the read connection back before writing (SQLite: one writer)
    state, moved = await service.mark_read(
        db=context.db, room_id=access.room.id, user_id=access.user.id, seq=data.seq
    )
    if moved:
        await context.events.read_moved(
            state.room_id, access.user.id, state.read_seq, state.unread, state.mentions
        )
    return state


@router.get(
    "/api/me/rooms",
    response_model=list[MyRoom],
    summary="Your rooms, with unread counts",
    description=(
        "Every room you belong to (direct rooms too), with your role and read state, newest activity first."
    ),
)
async def my_rooms(user: CurrentUser, session: SessionDep) -> list[MyRoom]:
    return await service.my_rooms(session, user_id=user.id)


@router.get(
    "/api/me/mentions",
    response_model=MentionsPage,
    summary="Messages that mention you",
    description=(
        "By others, not deleted, in rooms you belong to; newest first. `before`: the id of the last "
        "message of the page before."
    ),
)
async def my_mentions(
    user: CurrentUser,
    session: SessionDep,
    before: Annotated[int | None, Query(ge=1, le=MAX_SEQ)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> MentionsPage:
    return await service.my_mentions(session, user_id=user.id, before=before, limit=limit)
