from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import AfterValidator
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.schemas import UserSummary
from api.context import AppContext
from api.deps import ContextDep, SessionDep
from api.errors import (
    Conflict,
    Forbidden,
    NotAuthenticated,
    NotFound,
    RateLimited,
    error_responses,
)
from api.ids import MAX_SEQ
from api.messages import reactions, service
from api.messages.models import Message
from api.messages.schemas import ChangesPage, MessageCreate, MessagePage, MessagePublic, MessageUpdate
from api.rooms.dependencies import MemberRoom, ReadableRoom, VisibleRoom
from api.rooms.service import RoomAccess

router = APIRouter(
    prefix="/api/rooms/{room_id}",
    tags=["messages"],
    responses=error_responses(NotAuthenticated, Forbidden, NotFound),
)

Seq = Annotated[int | None, Query(ge=0, le=MAX_SEQ)]


@router.get(
    "/messages",
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


@router.get(
    "/changes",
    response_model=ChangesPage,
    summary="Read what changed since a rev",
    description=(
        "Every message whose `rev` is above `after_rev`, once, in its current state, ascending by "
        "`rev`: new, edited, deleted and reacted-to messages alike. `last_rev` is the room's; the "
        "next page starts after the last message's `rev`."
    ),
)
async def read_changes(
    access: ReadableRoom,
    session: SessionDep,
    after_rev: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> ChangesPage:
    # The room's last_rev was read (with the room, by the access check) before the page: a
    # change committed between the two reads shows in the page (and again after last_rev,
    # harmlessly), never only in last_rev, which would lose it.
    found, has_more = await service.changes(session, room_id=access.room.id, after_rev=after_rev, limit=limit)
    messages = [MessagePublic.model_validate(payload) for payload, _ in found]
    return ChangesPage(messages=messages, last_rev=access.room.last_rev, has_more=has_more)


@router.post(
    "/messages",
    status_code=status.HTTP_201_CREATED,
    response_model=MessagePublic,
    summary="Send a message",
    description=(
        "Stored, then delivered live to every connection in the room. A repeated `nonce` from the "
        "same author in the same room returns the stored message with 200 and delivers nothing. "
        "`reply_to` naming no message of the room is a 422."
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
        reply_to=data.reply_to,
    )
    if not stored.created:
        response.status_code = status.HTTP_200_OK
    return stored.message


@router.get(
    "/messages/{seq}",
    response_model=MessagePublic,
    summary="Read one message",
    description="By its seq; a deleted one too (`deleted: true`). An unknown or malformed seq is 404.",
)
async def read_message(seq: str, access: ReadableRoom, session: SessionDep) -> MessagePublic:
    return MessagePublic.model_validate(await service.one(session, room_id=access.room.id, seq=seq))


Emoji = Annotated[
    str,
    Path(description="1–32 characters, percent-encoded; no white space, control character or `/`"),
    AfterValidator(reactions.check_emoji),
]


@router.put(
    "/messages/{seq}/reactions/{emoji:path}",
    response_model=MessagePublic,
    summary="React to a message",
    description=(
        "Adds your reaction (adding it again changes nothing). Live connections get a `reaction` "
        "frame. Counts against your send limit. 409 on a deleted message, or for a 51st emoji."
    ),
    responses=error_responses(Conflict, RateLimited),
)
async def add_reaction(
    seq: str, emoji: Emoji, access: MemberRoom, context: ContextDep, session: SessionDep
) -> MessagePublic:
    message = await _react(seq, emoji, access, context, session, add=True)
    return MessagePublic.model_validate(message)


@router.delete(
    "/messages/{seq}/reactions/{emoji:path}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Take back a reaction",
    description="Removes your own reaction, also when it was not there. 409 on a deleted message.",
    responses=error_responses(Conflict, RateLimited),
)
async def remove_reaction(
    seq: str, emoji: Emoji, access: MemberRoom, context: ContextDep, session: SessionDep
) -> None:
    await _react(seq, emoji, access, context, session, add=False)


async def _react(
    seq: str, emoji: str, access: RoomAccess, context: AppContext, session: AsyncSession, *, add: bool
) -> Message:
    wait = await context.send_limiter.take(access.user.id)
    if wait:
        raise RateLimited("Reacting too fast", retry_after=wait)
    await session.close()  # hand the read connection back before writing
    message, rev = await reactions.react(
        db=context.db, room_id=access.room.id, seq=seq, user_id=access.user.id, emoji=emoji, add=add
    )
    if rev is not None:
        user = UserSummary.model_validate(access.user)
        await context.events.reacted(access.room.id, message.seq, emoji, user, added=add, rev=rev)
    return message


@router.patch(
    "/messages/{seq}",
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
    "/messages/{seq}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a message",
    description="The author, a room admin or owner, or a site admin. It keeps its seq; its body goes.",
)
async def delete_message(seq: str, access: VisibleRoom, context: ContextDep) -> None:
    deleted = await service.delete_message(db=context.db, access=access, seq=seq)
    if deleted is not None:
        await context.events.message_deleted(access.room.id, deleted.seq, deleted.rev)
