from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError

from api.deps import CurrentUser, SessionDep
from api.errors import NotAuthenticated, NotFound, error_responses
from api.ids import MAX_SEQ
from api.messages.schemas import MessagePage
from api.messages.service import public_messages
from api.rooms.service import ROOM_NOT_FOUND
from api.search import service
from api.search.words import has_letter_or_digit, query_words
from api.text import is_encodable

router = APIRouter(prefix="/api/search", tags=["search"], responses=error_responses(NotAuthenticated))

MAX_QUERY = 200


@router.get(
    "",
    response_model=MessagePage,
    summary="Search messages",
    description=(
        "Messages of the caller's rooms (or of `room_id`), not deleted, in whose current body every "
        "word of `q` is a word or the start of one, ignoring case (accents count), newest first. "
        "Words are runs of Unicode letters and digits; any other character of `q` only separates "
        "them. `has_more`: older matches exist; the next page passes the last message's `id` as `before`."
    ),
    responses=error_responses(NotFound),
)
async def search(
    user: CurrentUser,
    session: SessionDep,
    q: Annotated[
        str,
        Query(
            min_length=1, max_length=MAX_QUERY, description="1–200 characters, at least one letter or digit"
        ),
    ],
    room_id: Annotated[
        str | None, Query(description="Only this room of the caller's (404 otherwise)")
    ] = None,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_SEQ, description="The `id` of a message the caller can read")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="1–100")] = 20,
) -> MessagePage:
    if not is_encodable(q) or not has_letter_or_digit(q):
        raise _invalid("q", "must hold at least one letter or digit (and be valid Unicode)")
    room: int | None = None
    if room_id is not None:
        room = await service.member_room_id(session, user_id=user.id, room_id=room_id)
        if room is None:
            raise NotFound(ROOM_NOT_FOUND)
    if before is not None and not await service.can_read(session, user_id=user.id, message_id=before):
        raise _invalid("before", "must be the id of a message in one of your rooms")
    messages, has_more = await service.search(
        session, user_id=user.id, words=query_words(q), room_id=room, before=before, limit=limit
    )
    return MessagePage(messages=public_messages(messages), has_more=has_more)


def _invalid(parameter: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"type": "value_error", "loc": ("query", parameter), "msg": message}])
