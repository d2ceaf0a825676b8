"""One admitted client, from its first frame to the close: `/ws` and `/ws/rooms/{id}` alike.

A room socket is a connection with one subscription, made at admission and never changed;
`/ws` starts with none, says `ready`, and subscribes and unsubscribes as the client asks.
Everything else — history and presence frames, live frames, sends, typing, limits,
closes — is the same code for both.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.websockets import WebSocket, WebSocketDisconnect

from api.auth.exceptions import AuthError
from api.auth.schemas import UserSummary
from api.auth.service import Authenticated, authenticate_access_token
from api.context import AppContext
from api.errors import HubbubError, NotFound, RateLimited
from api.ids import parse_id
from api.messages import service as messages
from api.messages.writer import InvalidReply, Stored
from api.ratelimit import TokenBucket
from api.reading import service as reading
from api.realtime import access
from api.realtime.connection import LOGIN_CREDENTIAL, Connection, Subscription, api_credential
from api.realtime.protocol import (
    FRAME_TOO_BIG,
    INVALID_PARAMETER,
    PONG_FRAME,
    REMOVED,
    ROOM_DELETED,
    TOKEN_EXPIRED,
    TOO_MANY_SUBSCRIPTIONS,
    UNSUBSCRIBED,
    AuthFrame,
    ClientFrame,
    CloseReason,
    FrameError,
    PingFrame,
    ReadFrame,
    RoomRef,
    RoomRequest,
    SendFrame,
    SubscribeFrame,
    TypingFrame,
    UnsubscribeFrame,
    auth_ok_frame,
    error_frame,
    history_frame,
    message_frame,
    nonce_of,
    parse_client_frame,
    presence_frame,
    read_frame,
    ready_frame,
    unsubscribed_frame,
)
from api.realtime.recent import History
from api.realtime.wire import OutFrame
from api.rooms.models import Membership

logger = logging.getLogger(__name__)

NEWEST_ON_JOIN = 50
MAX_REPLAY = 1000
MAX_SUBSCRIPTIONS = 1000


@dataclass(frozen=True, slots=True)
class Identity:
    """What a session keeps of its user: a few fields, not a database object, because
    FastAPI holds every dependency's value for as long as the connection lives."""

    id: int
    username: str
    display_name: str
    is_admin: bool
    expires_at: datetime | None
    credential: str = LOGIN_CREDENTIAL
    issued_at: datetime | None = None
    # When the credential was checked (time.monotonic()): a close after it still applies.
    checked_at: float = field(default_factory=time.monotonic)

    @classmethod
    def of(cls, authenticated: Authenticated) -> Identity:
        user = authenticated.user
        token_id = authenticated.api_token_id
        return cls(
            user.id,
            user.username,
            user.display_name,
            user.is_admin,
            authenticated.expires_at,
            LOGIN_CREDENTIAL if token_id is None else api_credential(token_id),
            authenticated.issued_at,
        )

    @property
    def user(self) -> UserSummary:
        return UserSummary(id=self.id, username=self.username, display_name=self.display_name)


class LiveSession:
    def __init__(
        self,
        websocket: WebSocket,
        context: AppContext,
        identity: Identity,
        *,
        room: RoomRequest | None = None,
    ) -> None:
        """`room`: the one, already admitted, room of a room socket; None for /ws."""
        self._websocket = websocket
        self._context = context
        self._hub = context.hub
        self._room = room
        self._user = identity.user
        self._frames = TokenBucket(
            context.settings.ws_frames_per_second, context.settings.ws_frames_per_second
        )
        self._expiry: asyncio.TimerHandle | None = None
        self.connection: Connection = context.hub.new_connection(
            websocket, user=self._user, credential=identity.credential, multiplexed=room is None
        )
        self.connection.issued_at = identity.issued_at
        self._expires_at = identity.expires_at
        self._checked_at = identity.checked_at

    async def run(self) -> None:
        connection = self.connection
        self._hub.register(connection, admitted_at=self._checked_at)
        try:
            if self._room is None:
                connection.push(OutFrame(ready_frame(self._user, self._expires_at)))
                connection.greeted = True
                await self._watch_my_rooms()
            else:
                await self._subscribe([self._room], admitted=[self._room.room_id])
            self._expire_at(self._expires_at)
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
            await self._hub.unregister(connection)
            await connection.stop()

    @property
    def multiplexed(self) -> bool:
        return self._room is None

    # --- subscribing ---------------------------------------------------------

    async def _watch_my_rooms(self) -> None:
        async with self._context.db.session() as session:
            rooms = await session.scalars(
                select(Membership.room_id).where(Membership.user_id == self._user.id)
            )
            self._hub.watch(self.connection, list(rooms))

    async def _subscribe(
        self, requests: Sequence[RoomRequest], admitted: Sequence[object] | None = None
    ) -> None:
        """Subscribe to each room: its history and presence frames, then its live frames."""
        # When access was decided: an end of the subscription after it still applies.
        admitted_at = self._checked_at
        if admitted is None:
            admitted_at = time.monotonic()
            async with self._context.db.session() as session:
                admitted = await access.admit(
                    session, user_id=self._user.id, room_refs=[r.room_id for r in requests]
                )
        accepted: list[tuple[RoomRequest, Subscription]] = []
        for request, verdict in zip(requests, admitted, strict=True):
            if request.problem:
                verdict = INVALID_PARAMETER
            if isinstance(verdict, CloseReason):
                await self._refuse_subscription(request.room_id, verdict)
                continue
            assert isinstance(verdict, int)
            subscription = await self._attach(verdict, admitted_at)
            if subscription is None:
                self.connection.push(
                    OutFrame(unsubscribed_frame(request.room_id, TOO_MANY_SUBSCRIPTIONS.reason))
                )
                continue
            accepted.append((request, subscription))
        if accepted:
            await self._start(accepted, admitted_at)

    async def _attach(self, room_id: int, admitted_at: float) -> Subscription | None:
        """A new subscription to the room, replacing the connection's old one without a
        presence change; None when the connection holds too many."""
        connection = self.connection
        old = connection.subscriptions.get(room_id)
        if old is None and len(connection.subscriptions) >= MAX_SUBSCRIPTIONS:
            return None
        subscription = Subscription(connection, room_id)
        await self._hub.attach(subscription, admitted_at=admitted_at)
        if old is not None:
            await self._hub.detach(old)
        return subscription

    async def _start(self, accepted: list[tuple[RoomRequest, Subscription]], admitted_at: float) -> None:
        """Send every new subscription its history and presence, then let its live frames
        through. A history the room's recent messages on this worker hold is sent from them at
        once; the others are read from the database, all in one snapshot."""
        requests = {subscription.room_id: request for request, subscription in accepted}
        present = await self._present(list(requests))
        # In the order asked for: once one room's history must be read, the rooms after it wait too.
        waiting: list[Subscription] = []
        for _, subscription in accepted:
            if waiting or not self._go_live(subscription, requests, present, admitted_at=admitted_at):
                waiting.append(subscription)
        if not waiting:
            return
        histories = await self._read_histories(requests, [s.room_id for s in waiting])
        for subscription in waiting:
            history = histories[subscription.room_id]
            if self.connection.subscriptions.get(subscription.room_id) is not subscription:
                continue  # ended or replaced while the history was read
            if isinstance(history, CloseReason):
                self._hub.end(subscription, history)
            else:
                self._go_live(subscription, requests, present, history, admitted_at=admitted_at)

    def _go_live(
        self,
        subscription: Subscription,
        requests: dict[int, RoomRequest],
        present: dict[int, dict[int, UserSummary]],
        history: History | None = None,
        *,
        admitted_at: float,
    ) -> bool:
        """Send the history (from the recent messages, for a subscription admitted at
        `admitted_at`, when none is given) and the presence, and let live frames through;
        False when there is no history to send yet."""
        room_id = subscription.room_id
        if self.connection.subscriptions.get(room_id) is not subscription:
            return True  # ended at once (it was removed after its admission): nothing to send
        if history is None:
            request = requests[room_id]
            history = self._hub.recent_history(
                room_id,
                admitted_at=admitted_at,
                since=request.since,
                since_rev=request.since_rev,
                newest=NEWEST_ON_JOIN,
                replay=MAX_REPLAY,
            )
            if history is None:
                return False
        frame = history_frame(
            room_id,
            history.messages,
            last_seq=history.last_seq,
            last_rev=history.last_rev,
            truncated=history.truncated,
        )
        self.connection.push(OutFrame(frame))
        self.connection.push(OutFrame(presence_frame(room_id, present.get(room_id, {}).values())))
        subscription.start_live(history.last_rev)
        self.connection.greeted = True
        return True

    async def _read_histories(
        self, requests: dict[int, RoomRequest], room_ids: list[int]
    ) -> dict[int, History | CloseReason]:
        """The histories of these rooms from the database, in one snapshot; each one the room's
        recent messages here can start from is given to them."""
        histories: dict[int, History | CloseReason] = {}
        async with self._context.db.snapshot() as session:
            members = set(
                await session.scalars(
                    select(Membership.room_id).where(
                        Membership.user_id == self._user.id, Membership.room_id.in_(room_ids)
                    )
                )
            )
            for room_id in room_ids:
                # Removed between admission and registration: the end event missed us.
                histories[room_id] = REMOVED
                if room_id in members:
                    histories[room_id] = await self._snapshot(session, room_id, requests[room_id])
        return histories

    async def _snapshot(
        self, session: AsyncSession, room_id: int, request: RoomRequest
    ) -> History | CloseReason:
        try:
            snapshot = await messages.snapshot(
                session,
                room_id=room_id,
                since=request.since,
                since_rev=request.since_rev,
                newest_count=NEWEST_ON_JOIN,
                replay=MAX_REPLAY,
            )
        except NotFound:
            return ROOM_DELETED
        # Serialized once: for the frame, and for the room's recent messages here.
        payloads = [orjson.dumps(payload, option=orjson.OPT_UTC_Z) for payload in snapshot.messages]
        if request.since_rev is None and snapshot.messages:  # a run of seqs up to the newest
            self._hub.seed_recent(
                room_id,
                last_rev=snapshot.last_rev,
                first_seq=snapshot.messages[0]["seq"],
                payloads=payloads,
                revs=[payload["rev"] for payload in snapshot.messages],
            )
        return History(
            [orjson.Fragment(p) for p in payloads],
            last_seq=snapshot.last_seq,
            last_rev=snapshot.last_rev,
            truncated=snapshot.truncated,
        )

    async def _present(self, room_ids: list[int]) -> dict[int, dict[int, UserSummary]]:
        try:
            return await self._hub.presence.present(room_ids)
        except Exception:  # the shared store is down: nobody is known to be here
            logger.warning("reading presence failed", exc_info=True)
            return {}

    async def _refuse_subscription(self, room_ref: RoomRef, reason: CloseReason) -> None:
        if not self.multiplexed:
            self.connection.close(reason)
            return
        # A refused re-subscribe ends the old subscription.
        room_id = parse_id(room_ref) if isinstance(room_ref, int | str) else None
        old = self.connection.subscriptions.get(room_id) if room_id is not None else None
        if old is not None:
            await self._hub.detach(old)
        self.connection.push(OutFrame(unsubscribed_frame(room_ref, reason.reason)))

    async def _unsubscribe(self, room_ref: RoomRef) -> None:
        room_id = parse_id(room_ref) if isinstance(room_ref, int | str) else None
        subscription = self.connection.subscriptions.get(room_id) if room_id is not None else None
        if subscription is not None:
            await self._hub.detach(subscription)
        self.connection.push(OutFrame(unsubscribed_frame(room_ref, UNSUBSCRIBED.reason)))

    # --- receiving -----------------------------------------------------------

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
                nonce, room_ref = nonce_of(text)
                self._refuse(
                    FrameError("rate_limited", "more than the allowed frames per second", nonce, room_ref)
                )
                continue
            try:
                await self._handle(parse_client_frame(text))
            except FrameError as error:
                self._refuse(error)

    async def _handle(self, frame: ClientFrame) -> None:
        if isinstance(frame, SendFrame):
            await self._send_message(self._subscription(frame.room_id, frame.nonce), frame)
        elif isinstance(frame, ReadFrame):
            await self._mark_read(self._subscription(frame.room_id), frame.seq)
        elif isinstance(frame, TypingFrame):
            subscription = self._subscription(frame.room_id)
            await self._context.events.typing(subscription.room_id, self._user)
        elif isinstance(frame, PingFrame):
            self.connection.push(OutFrame(PONG_FRAME))
        elif isinstance(frame, AuthFrame):
            await self._swap_token(frame.token)
        elif not self.multiplexed:
            raise FrameError(
                "unknown_type", "subscribe and unsubscribe are for /ws; a room socket has its room"
            )
        elif isinstance(frame, SubscribeFrame):
            await self._subscribe(frame.rooms)
        elif isinstance(frame, UnsubscribeFrame):
            await self._unsubscribe(frame.room_id)

    def _subscription(self, room_ref: RoomRef, nonce: str | None = None) -> Subscription:
        """The subscription a frame acts in: the room socket's own, or the one it names on /ws."""
        connection = self.connection
        if not self.multiplexed:
            subscription = next(iter(connection.subscriptions.values()), None)
            if subscription is None:  # ended; the close is on its way
                raise FrameError("not_subscribed", "this connection has lost its room", nonce)
            return subscription
        if room_ref is None:
            raise FrameError("invalid_frame", "this frame needs a `room_id` on /ws", nonce)
        room_id = parse_id(room_ref) if isinstance(room_ref, int | str) else None
        found = connection.subscriptions.get(room_id) if room_id is not None else None
        if found is None:
            raise FrameError("not_subscribed", "subscribe to the room first", nonce, room_ref)
        return found

    async def _send_message(self, subscription: Subscription, frame: SendFrame) -> None:
        room_ref = frame.room_id if self.multiplexed else None
        wait = await self._context.send_limiter.take(self._user.id)
        if wait:
            raise FrameError(
                "rate_limited", f"sending too fast; retry in {wait:.1f} s", frame.nonce, room_ref
            )
        # Not awaited: the next frame is read while this one is stored, so a client with many
        # sends in flight gets them batched by the writer. The writer keeps their order.
        stored = self._context.writer.enqueue(
            room_id=subscription.room_id,
            author=self._user,
            body=frame.body,
            nonce=frame.nonce,
            reply_to=frame.reply_to,
        )
        stored.add_done_callback(lambda done: self._sent(subscription, frame.nonce, room_ref, done))

    def _sent(
        self, subscription: Subscription, nonce: str | None, room_ref: RoomRef, done: asyncio.Future[Stored]
    ) -> None:
        if done.cancelled():
            return
        error = done.exception()
        if error is None:
            stored = done.result()
            # A repeated nonce: the sender alone gets the stored message again, unless this
            # subscription has not had that rev yet. Then the change itself is on its way, in
            # rev order and with the nonce; answering now put a rev ahead of lower ones not
            # yet delivered (seen when a client sent again what a stopping worker had stored),
            # and a client keeping the last rev it saw would then skip those.
            if not stored.created and stored.message.rev <= subscription.last_rev:
                payload = stored.message.model_dump(mode="json")
                self.connection.push(OutFrame(message_frame(payload, stored.nonce)))
        elif isinstance(error, RateLimited):
            self._refuse(FrameError("rate_limited", error.detail, nonce, room_ref))
        elif isinstance(error, InvalidReply):
            self._refuse(FrameError("invalid_reply", error.detail, nonce, room_ref))
        elif isinstance(error, HubbubError) and error.status_code == 403:
            if self.connection.subscriptions.get(subscription.room_id) is subscription:
                self._hub.end(subscription, REMOVED)
        elif isinstance(error, HubbubError):
            self._refuse(FrameError("unavailable", error.detail, nonce, room_ref))
        else:
            logger.error("storing a message failed", exc_info=error)
            self._refuse(
                FrameError("unavailable", "the message could not be stored; send it again", nonce, room_ref)
            )

    async def _mark_read(self, subscription: Subscription, seq: int) -> None:
        """What `PUT .../read` does. When the cursor moves, every connection of the user hears;
        when it does not, this one alone is told where it stands."""
        try:
            state, moved = await reading.mark_read(
                db=self._context.db, room_id=subscription.room_id, user_id=self._user.id, seq=seq
            )
        except HubbubError:  # no longer a member: the end of the subscription is on its way
            return
        if moved:
            await self._context.events.read_moved(
                state.room_id, self._user.id, state.read_seq, state.unread, state.mentions
            )
        else:
            self.connection.push(
                OutFrame(read_frame(state.room_id, state.read_seq, state.unread, state.mentions))
            )

    async def _swap_token(self, token: str) -> None:
        try:
            async with self._context.db.session() as session:
                authenticated = await authenticate_access_token(
                    session=session,
                    settings=self._context.settings,
                    token=token,
                    usage=self._context.token_usage,
                )
        except AuthError:
            raise FrameError("invalid_token", "the token is invalid or expired; the held one stays") from None
        if authenticated.user.id != self._user.id:
            raise FrameError("invalid_token", "the token belongs to another user; the held one stays")
        identity = Identity.of(authenticated)
        self.connection.credential = identity.credential
        self.connection.issued_at = identity.issued_at
        self._expire_at(identity.expires_at)
        self.connection.push(OutFrame(auth_ok_frame(identity.expires_at)))

    def _expire_at(self, expires_at: datetime | None) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        self._expires_at = expires_at
        if expires_at is None:
            return
        delay = (expires_at - datetime.now(UTC)).total_seconds()
        self._expiry = asyncio.get_running_loop().call_later(
            max(0.0, delay), self.connection.close, TOKEN_EXPIRED
        )

    def _refuse(self, error: FrameError) -> None:
        if not self.multiplexed:
            error.room_id = None
        self.connection.push(OutFrame(error_frame(error)))
