"""`/ws` and `/ws/rooms/{room_id}`: admission by dependencies, then a LiveSession.

Every refusal is a `WebSocketException` raised before `accept()`. Browsers cannot
read the status of a refused handshake, so `refuse_websocket` completes the
handshake and closes at once with the spec's code and reason.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Query, WebSocket, WebSocketException
from fastapi.exceptions import WebSocketRequestValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.websockets import WebSocketState

from api.auth.exceptions import AuthError
from api.auth.service import authenticate_access_token
from api.context import AppContext
from api.deps import ContextDep
from api.ids import MAX_SEQ
from api.realtime.access import admit
from api.realtime.protocol import CLOSE_REASONS, INVALID_PARAMETER, CloseReason, RoomRequest
from api.realtime.session import Identity, LiveSession
from api.realtime.wire import release_handshake

logger = logging.getLogger(__name__)

router = APIRouter()


def _refusal(reason: CloseReason) -> WebSocketException:
    return WebSocketException(code=reason.code, reason=reason.reason)


Token = Annotated[str | None, Query(description="An access token (or an API token)")]


async def _identity(session: AsyncSession, context: AppContext, token: str | None) -> Identity:
    try:
        authenticated = await authenticate_access_token(
            session=session, settings=context.settings, token=token, usage=context.token_usage
        )
    except AuthError as exc:
        raise _refusal(CLOSE_REASONS[exc.reason]) from exc
    return Identity.of(authenticated)


async def websocket_user(context: ContextDep, token: Token = None) -> Identity:
    async with context.db.session() as session:
        return await _identity(session, context, token)


def _position(value: str | None) -> int | None:
    if value is None:
        return None
    if not (value.isascii() and value.isdigit()) or int(value) > MAX_SEQ:
        raise _refusal(INVALID_PARAMETER)
    return int(value)


async def room_admission(
    room_id: str,
    context: ContextDep,
    token: Token = None,
    since: Annotated[str | None, Query(description="The last seq the client saw")] = None,
    since_rev: Annotated[str | None, Query(description="The last rev the client saw")] = None,
) -> tuple[Identity, RoomRequest]:
    """Who connects, and the room they are a member of, in one database session: refused in
    the SPEC's order (the token, then the position, then the room)."""
    async with context.db.session() as session:
        identity = await _identity(session, context, token)
        if since is not None and since_rev is not None:
            raise _refusal(INVALID_PARAMETER)
        seq, rev = _position(since), _position(since_rev)
        (admitted,) = await admit(session, user_id=identity.id, room_refs=[room_id])
    if isinstance(admitted, CloseReason):
        raise _refusal(admitted)
    return identity, RoomRequest(admitted, since=seq, since_rev=rev)


@router.websocket("/ws")
async def multiplexed_socket(
    websocket: WebSocket, context: ContextDep, identity: Annotated[Identity, Depends(websocket_user)]
) -> None:
    await _serve(websocket, LiveSession(websocket, context, identity))


@router.websocket("/ws/rooms/{room_id}")
async def room_socket(
    websocket: WebSocket,
    context: ContextDep,
    admission: Annotated[tuple[Identity, RoomRequest], Depends(room_admission)],
) -> None:
    identity, room = admission
    await _serve(websocket, LiveSession(websocket, context, identity, room=room))


async def _serve(websocket: WebSocket, session: LiveSession) -> None:
    await websocket.accept()
    release_handshake(websocket)
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
