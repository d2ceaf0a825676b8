from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from fastapi.exceptions import RequestValidationError

from api.auth.schemas import UserSummary
from api.deps import ContextDep, SessionDep
from api.errors import Conflict, Forbidden, NotAuthenticated, NotFound, RateLimited, error_responses
from api.ids import MAX_SEQ
from api.messages import service
from api.messages.schemas import MessageCreate, MessagePage, MessagePublic, MessageUpdate
from api.rooms.dependencies import MemberRoom, ReadableRoom, VisibleRoom

router = APIRouter(
    prefix="/api/rooms/{room_id}/messages",
    tags=["messages"],
    responses=error_responses(NotAuthenticated, Forbidden, NotFound),
)

Seq = Annotated[int | None, Query(ge=0, le=MAX_SEQ)]


@router.get(
    "",
    response_model=MessagePage,
    summary="Read history",
    description=(
        "Ascending seq. `before=N`: the newest `limit` with seq < N; `after=N`: the oldest `limit` "
        "with seq > N; neither: the newest `limit`; both: 422. `has_more`: more exist beyond this "
        "page in its direction (older for `before` or neither, newer for `after`)."
    ),
)
async def read_history(
    access: ReadableRoom,
    session: SessionDep,
    before: Seq = None,
    after: Seq = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> MessagePage:
    room_id = access.room.id
    if before is not None and after is not None:
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("query", "before"),
                    "msg": "give `before` or `after`, not both",
                }
            ]
        )
    if before is not None:
        page, has_more = await service.before(session, room_id=room_id, seq=before, limit=limit)
    elif after is not None:
        page, has_more = await service.after(session, room_id=room_id, seq=after, limit=limit)
    else:
        page, has_more = await service.newest(session, room_id=room_id, limit=limit)
    return MessagePage(messages=service.public_messages(page), has_more=has_more)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=MessagePublic,
    summary="Send a message",
    description=(
        "Stored, then delivered live to every connection in the room. A repeated `nonce` from the "
        "same author in the same room returns the stored message with 200 and delivers nothing."
    ),
    responses={
        200: {"model": MessagePublic, "description": "A repeated nonce: the stored message"},
        **error_responses(RateLimited),
    },
)
async def send_message(
    data: MessageCreate, access: MemberRoom, session: SessionDep, context: ContextDep, response: Response
) -> MessagePublic:
    wait = await context.send_limiter.take(access.user.id)
    if wait:
        raise RateLimited("Sending too fast", retry_after=wait)
    # Hand the request's connection back before waiting for the writer: on PostgreSQL the writer
    # draws from the same pool, and requests holding every connection while they wait for it
    # would starve it until the pool times out (503s under a burst of sends).
    await session.close()
    stored = await context.writer.submit(
        room_id=access.room.id,
        author=UserSummary.model_validate(access.user),
        body=data.body,
        nonce=data.nonce,
    )
    if not stored.created:
        response.status_code = status.HTTP_200_OK
    return stored.message


@router.patch(
    "/{seq}",
    response_model=MessagePublic,
    summary="Edit a message",
    description="The author only. Sets `edited_at`; live connections get an `edit` frame.",
    responses=error_responses(Conflict),
)
async def edit_message(
    seq: str, data: MessageUpdate, access: VisibleRoom, context: ContextDep
) -> MessagePublic:
    message = MessagePublic.model_validate(
        await service.edit_message(db=context.db, access=access, seq=seq, body=data.body)
    )
    await context.events.message_edited(message)
    return message


@router.delete(
    "/{seq}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a message",
    description="The author, a room admin or owner, or a site admin. It keeps its seq; its body goes.",
)
async def delete_message(seq: str, access: VisibleRoom, context: ContextDep) -> None:
    deleted = await service.delete_message(db=context.db, access=access, seq=seq)
    if deleted is not None:
        await context.events.message_deleted(access.room.id, deleted.seq)
