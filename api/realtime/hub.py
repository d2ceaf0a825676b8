"""The hub: this worker's rooms and their connections, presence, and ordered fan-out.

Created in the app's lifespan. It delivers every envelope to its own connections
itself and hands it to the broker for the other workers.

Order. Seqs are assigned in commit order, but envelopes from several workers can
reach this one out of order. Each room keeps the next seq it expects: an early
message waits in a small buffer; a gap that is not filled within `gap_fill_seconds`
is read from the database (the message is committed before it is published, so it
is there); a seq below the expected one is a duplicate and dropped. So every
connection sees each message once, in seq order.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from starlette.websockets import WebSocket

from api.auth.schemas import UserSummary
from api.messages.schemas import MessagePublic
from api.realtime.brokers.base import Broker
from api.realtime.connection import Connection, DeliveryStats
from api.realtime.envelope import USERS_CHANNEL, Envelope, Kind, room_channel
from api.realtime.presence import Presence
from api.realtime.protocol import (
    CLOSE_REASONS,
    QUEUE_OVERFLOW,
    SERVER_RESTART,
    CloseReason,
    message_frame,
    user_frame,
)
from api.realtime.wire import OutFrame, wire_for

logger = logging.getLogger(__name__)

# The most messages a room catches up from the database after a broker outage;
# beyond that its clients are sent away (1013) to page history with `since`.
MAX_CATCH_UP = 1000


@dataclass(frozen=True, slots=True)
class MessageSource:
    """How the hub reads the database: the newest seq of a room, and a range of messages."""

    last_seq: Callable[[int], Awaitable[int | None]]
    between: Callable[[int, int, int], Awaitable[Sequence[tuple[MessagePublic, str | None]]]]


class RoomChannel:
    """One room's local connections and its place in the room's message sequence."""

    def __init__(self, room_id: int) -> None:
        self.room_id = room_id
        self.connections: set[Connection] = set()
        self.users: Counter[int] = Counter()
        self.next_seq: int | None = None
        self.early: dict[int, str] = {}
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.gap_timer: asyncio.TimerHandle | None = None

    def offer(self, seq: int, frame: str) -> bool:
        """Deliver a message frame in order; True when it leaves a gap waiting to be filled."""
        if self.next_seq is None or seq > self.next_seq:
            self.early.setdefault(seq, frame)
            return self.next_seq is not None
        if seq < self.next_seq:
            return bool(self.early)
        self._deliver(seq, frame)
        return self._drain_early()

    def start_at(self, next_seq: int) -> bool:
        self.next_seq = next_seq
        for seq in [seq for seq in self.early if seq < next_seq]:
            del self.early[seq]
        return self._drain_early()

    def skip_to(self, seq: int) -> bool:
        logger.warning("room %d: seqs %d..%d never arrived; skipping", self.room_id, self.next_seq, seq - 1)
        return self.start_at(seq)

    def _drain_early(self) -> bool:
        assert self.next_seq is not None
        while (frame := self.early.pop(self.next_seq, None)) is not None:
            self._deliver(self.next_seq, frame)
        return bool(self.early)

    def _deliver(self, seq: int, text: str) -> None:
        assert self.next_seq == seq
        self.next_seq = seq + 1
        frame = OutFrame(text)
        for connection in self.connections:
            connection.push(frame, seq)

    def broadcast(self, text: str, skip_user: int = 0) -> None:
        frame = OutFrame(text)
        for connection in self.connections:
            if connection.user.id != skip_user:
                connection.push(frame)

    def close(self, reason: CloseReason, user_id: int = 0) -> None:
        for connection in list(self.connections):
            if not user_id or connection.user.id == user_id:
                connection.close(reason)


class Hub:
    def __init__(
        self,
        *,
        broker: Broker,
        presence: Presence,
        source: MessageSource,
        queue_frames: int,
        gap_fill_seconds: float,
        presence_refresh_seconds: float,
        observe_broadcast: Callable[[float], None] = lambda seconds: None,
    ) -> None:
        self.broker = broker
        self.presence = presence
        self.stats = DeliveryStats()
        self._observe_broadcast = observe_broadcast
        self._source = source
        self._queue_frames = queue_frames
        self._gap_fill_seconds = gap_fill_seconds
        self._refresh_seconds = presence_refresh_seconds
        self._rooms: dict[int, RoomChannel] = {}
        self._by_user: defaultdict[int, set[Connection]] = defaultdict(set)
        self._tasks: set[asyncio.Task[None]] = set()
        self._refresher: asyncio.Task[None] | None = None

    # --- lifecycle ---------------------------------------------------------

    async def start(self) -> None:
        await self.broker.start(deliver=self.deliver, on_resume=self._catch_up)
        await self.broker.subscribe(USERS_CHANNEL)
        self._refresher = asyncio.create_task(self._refresh_presence(), name="presence-refresh")

    async def stop(self, grace: float) -> None:
        """Close every connection (1012) and wait for them, at most `grace` seconds."""
        connections = [c for channel in self._rooms.values() for c in channel.connections]
        for connection in connections:
            connection.close(SERVER_RESTART)
        drains = [asyncio.ensure_future(c.wait_drained()) for c in connections]
        if drains:
            _, late = await asyncio.wait(drains, timeout=grace)
            for drain in late:
                drain.cancel()
        for task in [self._refresher, *self._tasks]:
            if task is not None:
                task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.broker.stop()

    @property
    def connection_count(self) -> int:
        return sum(len(channel.connections) for channel in self._rooms.values())

    async def connections_everywhere(self) -> int:
        return await self.presence.connections(local=self.connection_count)

    @property
    def room_count(self) -> int:
        return len(self._rooms)

    def new_connection(self, websocket: WebSocket, *, user: UserSummary, room_id: int) -> Connection:
        """A connection for `websocket`; call it from the session's own task."""
        return Connection(
            websocket,
            wire_for(websocket),
            user=user,
            room_id=room_id,
            max_queue=self._queue_frames,
            stats=self.stats,
        )

    # --- joining and leaving ----------------------------------------------

    @asynccontextmanager
    async def attached(self, connection: Connection) -> AsyncIterator[None]:
        """Register `connection` with its room for as long as the block runs; live frames
        queue up from the moment this enters, before the history is read."""
        channel = await self._open_channel(connection.room_id)
        user = connection.user
        channel.connections.add(connection)
        self._by_user[user.id].add(connection)
        channel.users[user.id] += 1
        try:
            if channel.users[user.id] == 1 and await self._arrive(channel.room_id, user):
                await self.publish(
                    Envelope(Kind.FRAME, channel.room_id, user_frame("join", user), user_id=user.id)
                )
            yield
        finally:
            await self._detach(channel, connection)

    async def _arrive(self, room_id: int, user: UserSummary) -> bool:
        try:
            return await self.presence.arrive(room_id, user)
        except Exception:  # the shared store is down: announce, rather than lose, the join
            logger.warning("recording an arrival failed", exc_info=True)
            return True

    async def _detach(self, channel: RoomChannel, connection: Connection) -> None:
        user = connection.user
        channel.connections.discard(connection)
        user_connections = self._by_user[user.id]
        user_connections.discard(connection)
        if not user_connections:
            del self._by_user[user.id]
        channel.users[user.id] -= 1
        if channel.users[user.id] <= 0:
            del channel.users[user.id]
            try:
                if await self.presence.depart(channel.room_id, user.id):
                    await self.publish(
                        Envelope(Kind.FRAME, channel.room_id, user_frame("leave", user), user_id=user.id)
                    )
            except Exception:  # the shared store is down: its entries expire on their own
                logger.warning("recording a departure failed", exc_info=True)
        if not channel.connections and self._rooms.get(channel.room_id) is channel:
            del self._rooms[channel.room_id]
            if channel.gap_timer is not None:
                channel.gap_timer.cancel()
            await self.broker.unsubscribe(room_channel(channel.room_id))

    async def _open_channel(self, room_id: int) -> RoomChannel:
        """The room's channel, subscribed and positioned in the sequence."""
        while True:
            channel = self._rooms.get(room_id)
            if channel is None:
                channel = self._rooms[room_id] = RoomChannel(room_id)
                self._spawn(self._position(channel))
            await asyncio.shield(channel.ready)
            if self._rooms.get(room_id) is channel:
                return channel

    async def _position(self, channel: RoomChannel) -> None:
        try:
            # Subscribe before reading the last seq: whatever is stored after the
            # read is published after it, so it reaches us.
            await self.broker.subscribe(room_channel(channel.room_id))
            last_seq = await self._source.last_seq(channel.room_id)
        except Exception as exc:
            if self._rooms.get(channel.room_id) is channel:
                del self._rooms[channel.room_id]
            channel.ready.set_exception(exc)
            return
        self._after_offer(channel, channel.start_at((last_seq or 0) + 1))
        channel.ready.set_result(None)

    # --- publishing and delivery ------------------------------------------

    async def publish(self, *envelopes: Envelope) -> None:
        """The one way anything reaches live connections: here, then every other worker."""
        for envelope in envelopes:
            self.deliver(envelope)
        try:
            await self.broker.publish(envelopes)
        except Exception as exc:  # stored already; other workers catch up when it is back
            logger.warning("publishing to the broker failed: %r", exc)

    def deliver(self, envelope: Envelope) -> None:
        """Hand an envelope to this worker's connections. Never awaits."""
        if envelope.kind is Kind.CLOSE_ACCOUNT:
            for connection in list(self._by_user.get(envelope.user_id, ())):
                connection.close(CLOSE_REASONS[envelope.close])
            return
        channel = self._rooms.get(envelope.room_id)
        if channel is None:
            return
        if envelope.kind is Kind.MESSAGE:
            self._after_offer(channel, channel.offer(envelope.seq, envelope.frame))
            self._observe_broadcast(time.time() - envelope.sent_at)
        elif envelope.kind is Kind.FRAME:
            channel.broadcast(envelope.frame, skip_user=envelope.user_id)
        elif envelope.kind is Kind.CLOSE_USER:
            channel.close(CLOSE_REASONS[envelope.close], user_id=envelope.user_id)
        elif envelope.kind is Kind.CLOSE_ROOM:
            channel.close(CLOSE_REASONS[envelope.close])

    def _after_offer(self, channel: RoomChannel, gap: bool) -> None:
        if gap and channel.gap_timer is None:
            channel.gap_timer = asyncio.get_running_loop().call_later(
                self._gap_fill_seconds, self._spawn_fill, channel
            )
        elif not gap and channel.gap_timer is not None:
            channel.gap_timer.cancel()
            channel.gap_timer = None

    def _spawn_fill(self, channel: RoomChannel) -> None:
        channel.gap_timer = None
        if channel.early and channel.next_seq is not None:
            self._spawn(self._fill_gap(channel, min(channel.early) - 1))

    async def _fill_gap(self, channel: RoomChannel, last: int) -> None:
        first = channel.next_seq
        assert first is not None
        try:
            missing = await self._source.between(channel.room_id, first, last)
        except Exception:  # the database is down too: try again later
            logger.warning("filling room %d's gap failed", channel.room_id, exc_info=True)
            self._after_offer(channel, True)
            return
        gap = False
        for message, nonce in missing:
            gap = channel.offer(message.seq, message_frame(message, nonce))
        if channel.next_seq is not None and channel.next_seq <= last:
            gap = channel.skip_to(last + 1)
        self._after_offer(channel, gap)

    async def _catch_up(self) -> None:
        """After a broker outage: deliver from the database what was stored meanwhile."""
        for channel in list(self._rooms.values()):
            if channel.next_seq is None:
                continue
            try:
                last = await self._source.last_seq(channel.room_id)
                if last is None:
                    continue
                if last - channel.next_seq + 1 > MAX_CATCH_UP:
                    channel.close(QUEUE_OVERFLOW)
                    continue
                await self._fill_gap(channel, last)
            except Exception:
                logger.exception("catching up room %d failed", channel.room_id)
        await self._refresh_once()

    # --- presence ------------------------------------------------------------

    async def _refresh_presence(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_seconds)
            try:
                await self._refresh_once()
            except Exception as exc:
                logger.warning("refreshing presence failed: %r", exc)

    async def _refresh_once(self) -> None:
        entries = [
            (room_id, user_id) for room_id, channel in self._rooms.items() for user_id in channel.users
        ]
        await self.presence.refresh(entries, self.connection_count)

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
