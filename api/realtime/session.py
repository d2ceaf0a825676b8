"""One admitted client, from the history frame to the close."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.websockets import WebSocket, WebSocketDisconnect

from api.auth.exceptions import AuthError
from api.auth.schemas import UserSummary
from api.auth.service import Authenticated, authenticate_access_token
from api.context import AppContext
from api.errors import HubbubError, RateLimited
from api.messages import service as messages
from api.ratelimit import TokenBucket
from api.realtime.connection import Connection
from api.realtime.protocol import (
    FRAME_TOO_BIG,
    PONG_FRAME,
    REMOVED,
    TOKEN_EXPIRED,
    AuthFrame,
    ClientFrame,
    FrameError,
    PingFrame,
    SendFrame,
    TypingFrame,
    auth_ok_frame,
    error_frame,
    history_frame,
    message_frame,
    parse_client_frame,
    presence_frame,
)
from api.realtime.wire import OutFrame
from api.rooms.models import Membership, Room

logger = logging.getLogger(__name__)

NEWEST_ON_JOIN = 50
MAX_REPLAY = 1000


@dataclass(frozen=True, slots=True)
class Identity:
    """What a session keeps of its user: a few fields, not a database object, because
    FastAPI holds every dependency's value for as long as the connection lives."""

    id: int
    username: str
    display_name: str
    is_admin: bool
    expires_at: datetime

    @classmethod
    def of(cls, authenticated: Authenticated) -> Identity:
        user = authenticated.user
        return cls(user.id, user.username, user.display_name, user.is_admin, authenticated.claims.expires_at)


@dataclass(frozen=True, slots=True)
class Admission:
    identity: Identity
    room_id: int
    since: int | None

    @property
    def user(self) -> UserSummary:
        identity = self.identity
        return UserSummary(id=identity.id, username=identity.username, display_name=identity.display_name)


class LiveSession:
    def __init__(self, websocket: WebSocket, context: AppContext, admission: Admission) -> None:
        self._websocket = websocket
        self._context = context
        self._admission = admission
        self._user = admission.user
        self._frames = TokenBucket(
            context.settings.ws_frames_per_second, context.settings.ws_frames_per_second
        )
        self._expiry: asyncio.TimerHandle | None = None
        self.connection: Connection = context.hub.new_connection(
            websocket, user=self._user, room_id=admission.room_id
        )

    async def run(self) -> None:
        connection = self.connection
        try:
            async with self._context.hub.attached(connection):
                last_seq = await self._send_history()
                connection.start_live(last_seq)
                self._expire_at(self._admission.identity.expires_at)
                # After a close of ours the server hands us a disconnect: one loop ends it all.
                await self._receive()
        except (WebSocketDisconnect, OSError):
            pass  # the client went away
        except asyncio.CancelledError:
            if not connection.aborted:
                raise
            # A client that stopped reading was cut off (AsgiWire's abort); the session is over.
            current = asyncio.current_task()
            if current is not None:
                current.uncancel()
        finally:
            if self._expiry is not None:
                self._expiry.cancel()
            await connection.stop()

    async def _send_history(self) -> int:
        """Send the history and presence frames; the seq the history ends at."""
        room_id, since = self._admission.room_id, self._admission.since
        async with self._context.db.session() as session:
            if await session.get(Membership, (room_id, self._user.id)) is None:
                # Removed between admission and registration: the close event missed us.
                self.connection.close(REMOVED)
                return 0
            page, truncated = await messages.newest_payloads(
                session,
                room_id=room_id,
                limit=NEWEST_ON_JOIN if since is None else MAX_REPLAY,
                after=since or 0,
            )
            last_seq = page[-1]["seq"] if page else min(since or 0, await _room_last_seq(session, room_id))
        await self._websocket.send_text(history_frame(page, last_seq=last_seq, truncated=truncated))
        online = await self._context.hub.presence.online(room_id)
        await self._websocket.send_text(presence_frame(online))
        return last_seq

    async def _receive(self) -> None:
        max_bytes = self._context.settings.ws_max_frame_bytes
        while True:
            event = await self._websocket.receive()
            if event["type"] == "websocket.disconnect":
                return
            text: str | None = event.get("text")
            if text is None:
                self._refuse(FrameError("invalid_frame", "frames must be JSON text, not binary"))
                continue
            # The server enforces this before buffering (uvicorn's ws_max_size); this
            # keeps the promise under any other ASGI server too.
            if len(text) > max_bytes // 4 and len(text.encode()) > max_bytes:
                self.connection.close(FRAME_TOO_BIG)
                continue  # the disconnect follows our close
            if self._frames.take():
                self._refuse(FrameError("rate_limited", "more than the allowed frames per second"))
                continue
            try:
                await self._handle(parse_client_frame(text))
            except FrameError as error:
                self._refuse(error)

    async def _handle(self, frame: ClientFrame) -> None:
        if isinstance(frame, SendFrame):
            await self._send_message(frame)
        elif isinstance(frame, TypingFrame):
            await self._context.events.typing(self._admission.room_id, self._user)
        elif isinstance(frame, PingFrame):
            self.connection.push(OutFrame(PONG_FRAME))
        elif isinstance(frame, AuthFrame):
            await self._swap_token(frame.token)

    async def _send_message(self, frame: SendFrame) -> None:
        wait = await self._context.send_limiter.take(self._user.id)
        if wait:
            raise FrameError("rate_limited", f"sending too fast; retry in {wait:.1f} s", frame.nonce)
        try:
            stored = await self._context.writer.submit(
                room_id=self._admission.room_id,
                author=self._user,
                body=frame.body,
                nonce=frame.nonce,
            )
        except RateLimited as exc:
            raise FrameError("rate_limited", exc.detail, frame.nonce) from None
        except HubbubError as exc:
            if exc.status_code == 403:
                self.connection.close(REMOVED)
                return
            raise FrameError("unavailable", exc.detail, frame.nonce) from None
        if not stored.created:
            # A repeated nonce: the sender alone gets the stored message again.
            self.connection.push(OutFrame(message_frame(stored.message, stored.nonce)))

    async def _swap_token(self, token: str) -> None:
        try:
            async with self._context.db.session() as session:
                authenticated = await authenticate_access_token(
                    session=session, settings=self._context.settings, token=token
                )
        except AuthError:
            raise FrameError("invalid_token", "the token is invalid or expired; the held one stays") from None
        if authenticated.user.id != self._user.id:
            raise FrameError("invalid_token", "the token belongs to another user; the held one stays")
        self._expire_at(authenticated.claims.expires_at)
        self.connection.push(OutFrame(auth_ok_frame(authenticated.claims.expires_at)))

    def _expire_at(self, expires_at: datetime) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        delay = (expires_at - datetime.now(UTC)).total_seconds()
        self._expiry = asyncio.get_running_loop().call_later(
            max(0.0, delay), self.connection.close, TOKEN_EXPIRED
        )

    def _refuse(self, error: FrameError) -> None:
        self.connection.push(OutFrame(error_frame(error)))


async def _room_last_seq(session: AsyncSession, room_id: int) -> int:
    return await session.scalar(select(Room.last_seq).where(Room.id == room_id)) or 0
