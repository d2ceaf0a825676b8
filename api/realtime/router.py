"""`/ws/rooms/{room_id}`: admission by dependencies, then a LiveSession.

Every refusal is a `WebSocketException` raised before `accept()`. Browsers cannot
read the status of a refused handshake, so `refuse_websocket` completes the
handshake and closes at once with the spec's code and reason.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query, WebSocket, WebSocketException
from fastapi.exceptions import WebSocketRequestValidationError
from starlette.websockets import WebSocketState

from api.auth.exceptions import AuthError
from api.auth.service import authenticate_access_token
from api.deps import ContextDep
from api.errors import NotFound
from api.ids import MAX_SEQ
from api.realtime.protocol import (
    BANNED,
    CLOSE_REASONS,
    INVALID_PARAMETER,
    NOT_MEMBER,
    ROOM_NOT_FOUND,
    CloseReason,
)
from api.realtime.session import Admission, Identity, LiveSession
from api.rooms.service import get_room_access

logger = logging.getLogger(__name__)

router = APIRouter()


def _refusal(reason: CloseReason) -> WebSocketException:
    return WebSocketException(code=reason.code, reason=reason.reason)


async def websocket_user(
    context: ContextDep,
    token: Annotated[str | None, Query(description="An access token")] = None,
) -> Identity:
    try:
        async with context.db.session() as session:
            authenticated = await authenticate_access_token(
                session=session, settings=context.settings, token=token
            )
    except AuthError as exc:
        raise _refusal(CLOSE_REASONS[exc.reason]) from exc
    return Identity.of(authenticated)


def since_parameter(
    since: Annotated[str | None, Query(description="The last seq the client saw")] = None,
) -> int | None:
    if since is None:
        return None
    if not (since.isascii() and since.isdigit()) or int(since) > MAX_SEQ:
        raise _refusal(INVALID_PARAMETER)
    return int(since)


async def websocket_room(
    room_id: str, context: ContextDep, identity: Annotated[Identity, Depends(websocket_user)]
) -> int:
    """The id of a room the user is a member of."""
    try:
        async with context.db.session() as session:
            access = await get_room_access(session, room_id=room_id, user=identity)
    except NotFound as exc:
        raise _refusal(ROOM_NOT_FOUND) from exc
    if access.banned:
        raise _refusal(BANNED if not access.room.is_private else ROOM_NOT_FOUND)
    if not access.is_member:
        # Site admins see private rooms, but only members take part.
        raise _refusal(NOT_MEMBER if not access.room.is_private else ROOM_NOT_FOUND)
    return access.room.id


@router.websocket("/ws/rooms/{room_id}")
async def room_socket(
    websocket: WebSocket,
    context: ContextDep,
    identity: Annotated[Identity, Depends(websocket_user)],
    since: Annotated[int | None, Depends(since_parameter)],
    admitted_room: Annotated[int, Depends(websocket_room)],
) -> None:
    session = LiveSession(websocket, context, Admission(identity, admitted_room, since))
    await websocket.accept()
    try:
        await session.run()
    except Exception:  # the task boundary: log it, close 1011, keep the server up
        logger.exception("a WebSocket session failed")
        if websocket.application_state is WebSocketState.CONNECTED:
            await websocket.close(1011, "internal_error")


async def refuse_websocket(websocket: WebSocket, exc: Exception) -> None:
    reason = (
        CloseReason(exc.code, exc.reason or "") if isinstance(exc, WebSocketException) else INVALID_PARAMETER
    )
    if websocket.application_state is WebSocketState.CONNECTING:
        await websocket.accept()
    if websocket.application_state is WebSocketState.CONNECTED:
        await websocket.close(reason.code, reason.reason)


def install_websocket_refusals(app: FastAPI) -> None:
    app.add_exception_handler(WebSocketException, refuse_websocket)
    app.add_exception_handler(WebSocketRequestValidationError, refuse_websocket)
