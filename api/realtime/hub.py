"""The hub: this worker's rooms, their subscriptions and watchers, presence, and ordered fan-out.

Created in the app's lifespan. It delivers every envelope to its own connections itself and
hands it to the broker for the other workers.

Order. Every change to a room's messages has a rev, assigned in commit order, but
envelopes from several workers can reach this one out of order. Each room keeps the next
rev it expects: an early change waits in a small buffer; a gap that is not filled within
`gap_fill_seconds` is read from the database (a change is committed before it is
published, and a committed rev means every lower one is committed too, so it is there); a
rev below the expected one is a duplicate and dropped. So every subscription sees each
change once, in rev order, and new messages in seq order. After a broker outage the same
read catches every room up.

A gap is read as the messages changed since the last delivered rev, in their current
state. Changes a later one superseded (an edit edited again) are no longer there to read;
the later one carries their result. When a message created in the gap has changed again
since, its creation can no longer be delivered both in rev and in seq order: that room's
subscribers are sent away (1013) to reconnect with `since_rev`, which loses nothing.

Watchers. A /ws connection watches every room its user belongs to: each new message in a
room it has not subscribed to reaches it as an `activity` frame, in the same order.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, defaultdict, deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

import orjson
from starlette.websockets import WebSocket

from api.auth.schemas import UserSummary
from api.cancellation import stop_if_cancelled
from api.realtime.brokers.base import Broker
from api.realtime.connection import Connection, DeliveryStats, Subscription
from api.realtime.envelope import USERS_CHANNEL, Envelope, Kind, room_channel
from api.realtime.presence import Presence
from api.realtime.protocol import (
    CLOSE_REASONS,
    QUEUE_OVERFLOW,
    SERVER_RESTART,
    CloseReason,
    activity_frame,
    delete_frame,
    edit_frame,
    mentioned_activity,
    message_frame,
    payload_of,
    room_added_frame,
    room_removed_frame,
    unsubscribed_frame,
    user_frame,
)
from api.realtime.recent import History, RecentMessages, apply_reaction, mark_deleted
from api.realtime.wire import OutFrame, wire_for

logger = logging.getLogger(__name__)

# The most changes a room catches up from the database after a gap or a broker outage;
# beyond that its subscribers are sent away (1013) to page the rest with `since_rev`.
MAX_CATCH_UP = 1000
# Longer than any admission takes, from the credential's check to the connection's registration.
CLOSE_MEMORY_SECONDS = 60.0

Payload = dict[str, Any]


@dataclass(frozen=True, slots=True)
class CatchUp:
    """A room's changes after a rev, and where the room stands, read in one snapshot."""

    changes: Sequence[tuple[Payload, str | None]]  # (message payload, nonce), ascending rev
    has_more: bool
    last_seq: int
    last_rev: int


@dataclass(slots=True)
class Verdict:
    """What a connection lost, or gained, while this worker could not hear of it."""

    close: CloseReason | None = None
    ended: dict[int, CloseReason] = field(default_factory=dict)  # subscription room -> reason
    added: list[tuple[Payload, str]] = field(default_factory=list)  # (room, role)
    removed: dict[int, str] = field(default_factory=dict)  # watched room -> room_removed reason


@dataclass(frozen=True, slots=True)
class ConnectionView:
    """What the database is asked about one connection after an outage."""

    user_id: int
    credential: str
    multiplexed: bool
    subscribed: frozenset[int]
    watching: frozenset[int]
    issued_at: datetime | None = None  # the credential's


@dataclass(frozen=True, slots=True)
class ChangeSource:
    """How the hub reads the database."""

    # (last_seq, last_rev) of each of the rooms that exist.
    tops: Callable[[Sequence[int]], Awaitable[dict[int, tuple[int, int]]]]
    # The changes of a room after a rev (at most `limit`), or None when the room is gone.
    catch_up: Callable[[int, int, int], Awaitable[CatchUp | None]]
    # For each connection, what it lost or gained.
    recheck: Callable[[Sequence[ConnectionView]], Awaitable[list[Verdict]]]


class RoomChannel:
    """One room on this worker: its subscriptions and watchers, and its place in the room's
    sequence of changes."""

    def __init__(self, room_id: int, *, recent_capacity: int = 0) -> None:
        self.room_id = room_id
        self._recent_capacity = recent_capacity
        # The room's newest messages as delivered here (None: none kept, or not yet positioned).
        self.recent: RecentMessages | None = None
        # A timer that ends the channel some time after nothing uses it (keeping its recent
        # messages for whoever comes back soon, e.g. a reconnecting client).
        self.linger: asyncio.TimerHandle | None = None
        self.subscriptions: set[Subscription] = set()
        self.watchers: set[Connection] = set()
        self.users: Counter[int] = Counter()  # subscriptions per user, for presence
        self.next_rev: int | None = None
        self.next_seq = 1
        # When the broker confirmed this worker hears the room (monotonic): an end published
        # elsewhere before then may never have reached it.
        self.listening_since = float("inf")
        self.early: dict[int, Envelope] = {}
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.gap_timer: asyncio.TimerHandle | None = None
        self.filling = False
        # Who this worker believes is present in the room (from join and leave frames and
        # presence reads), so that people whose worker died can be announced as gone.
        self.known_present: dict[int, UserSummary] = {}
        # Of those, who was missing from the shared store at the last presence read.
        self.missing: set[int] = set()

    @property
    def unused(self) -> bool:
        return not self.subscriptions and not self.watchers

    def offer(self, envelope: Envelope) -> bool:
        """Deliver a change in order; True when it leaves a gap waiting to be filled."""
        rev = envelope.rev
        if self.next_rev is None or rev > self.next_rev:
            self.early.setdefault(rev, envelope)
            return self.next_rev is not None
        if rev < self.next_rev:
            return bool(self.early)
        self.deliver(envelope)
        return self._drain_early()

    def start_at(self, next_rev: int, next_seq: int) -> bool:
        """Stand at `next_rev`: earlier changes are delivered or superseded. True on a gap."""
        self.next_seq = max(self.next_seq, next_seq)
        if self.next_rev != next_rev:  # positioned, or moved past changes it did not deliver
            self._restart_recent(next_rev - 1)
        self.next_rev = next_rev
        for rev in [rev for rev in self.early if rev < next_rev]:
            del self.early[rev]
        return self._drain_early()

    def _drain_early(self) -> bool:
        assert self.next_rev is not None
        while (envelope := self.early.pop(self.next_rev, None)) is not None:
            self.deliver(envelope)
        return bool(self.early)

    def deliver(self, envelope: Envelope) -> None:
        self.next_rev = envelope.rev + 1
        frame = OutFrame(envelope.frame)
        rev = envelope.rev
        for subscription in self.subscriptions:
            subscription.offer(frame, rev)
        if envelope.event == "message":
            self.next_seq = envelope.seq + 1
            if self.watchers and envelope.extra:
                self._tell_watchers(envelope)
        if self.recent is not None:
            self._remember(envelope)

    def _restart_recent(self, last_rev: int) -> None:
        """Keep recent messages from here on (none known yet)."""
        if self._recent_capacity:
            self.recent = RecentMessages(self._recent_capacity, next_seq=self.next_seq, last_rev=last_rev)

    def _remember(self, envelope: Envelope) -> None:
        recent = self.recent
        assert recent is not None
        event, seq, rev = envelope.event, envelope.seq, envelope.rev
        if event == "message":
            recent.added(seq, rev, payload_of(envelope.frame))
        elif event == "edit":
            recent.replaced(seq, rev, payload_of(envelope.frame))
        elif event == "delete":
            recent.changed(seq, rev, mark_deleted)
        elif event == "reaction":
            data = orjson.loads(envelope.frame)
            reacted = partial(apply_reaction, data["emoji"], data["user"]["id"], data["added"])
            recent.changed(seq, rev, reacted)
        else:  # a change this worker does not know how to apply: never serve a wrong history
            self._restart_recent(rev)

    def _tell_watchers(self, envelope: Envelope) -> None:
        plain: OutFrame | None = None
        mentioned: OutFrame | None = None
        for watcher in self.watchers:
            if self.room_id in watcher.subscriptions:
                continue
            if watcher.user.id in envelope.user_ids:
                mentioned = mentioned or OutFrame(mentioned_activity(envelope.extra))
                watcher.push(mentioned)
            else:
                plain = plain or OutFrame(envelope.extra)
                watcher.push(plain)

    def broadcast(self, envelope: Envelope) -> None:
        if envelope.event == "renamed" and self.next_rev is not None:
            self._restart_recent(self.next_rev - 1)  # authors' names in it are stale
        if envelope.event == "join":
            self._note_presence(envelope, present=True)
        elif envelope.event == "leave":
            self._note_presence(envelope, present=False)
        frame = OutFrame(envelope.frame)
        skip = envelope.user_id
        for subscription in self.subscriptions:
            if subscription.connection.user.id != skip:
                subscription.offer(frame)

    def _note_presence(self, envelope: Envelope, *, present: bool) -> None:
        if present:
            data = orjson.loads(envelope.frame)
            self.known_present[envelope.user_id] = UserSummary.model_validate(data["user"])
        else:
            self.known_present.pop(envelope.user_id, None)


class Hub:
    def __init__(
        self,
        *,
        broker: Broker,
        presence: Presence,
        source: ChangeSource,
        queue_frames: int,
        gap_fill_seconds: float,
        presence_refresh_seconds: float,
        observe_broadcast: Callable[[float], None] = lambda seconds: None,
        direct_wire: bool = False,
        recent_messages: int = 0,
        linger_seconds: float = 0.0,
    ) -> None:
        self.broker = broker
        self.presence = presence
        self.stats = DeliveryStats()
        self._observe_broadcast = observe_broadcast
        self._source = source
        self._queue_frames = queue_frames
        self._gap_fill_seconds = gap_fill_seconds
        self._refresh_seconds = presence_refresh_seconds
        # Whether connections may write straight to their transport (api/realtime/wirecheck.py).
        self.direct_wire = direct_wire
        # How many of each followed room's newest messages to keep for history frames, and how
        # long a channel nothing uses stays (with them) for whoever comes back.
        self._recent_messages = recent_messages
        self._linger_seconds = linger_seconds
        self._rooms: dict[int, RoomChannel] = {}
        self._connections: set[Connection] = set()
        self._by_user: defaultdict[int, set[Connection]] = defaultdict(set)
        # Closes and ends of the last CLOSE_MEMORY_SECONDS, (monotonic time, credential, reason)
        # by what they concern: ("user", id) for a user's connections (logout-all, revocation,
        # deactivation), ("room", id) and ("member", room, user) for subscriptions. See
        # `register` and `attach`.
        self._recent_closes: dict[tuple[Any, ...], list[tuple[float, str, CloseReason]]] = {}
        self._close_order: deque[tuple[float, tuple[Any, ...]]] = deque()  # (when, key), by time
        self._tasks: set[asyncio.Task[None]] = set()
        self._refresher: asyncio.Task[None] | None = None

    # --- lifecycle ---------------------------------------------------------

    async def start(self) -> None:
        await self.broker.start(deliver=self.deliver, on_resume=self._catch_up)
        await self.broker.subscribe([USERS_CHANNEL])
        self._refresher = asyncio.create_task(self._refresh_presence(), name="presence-refresh")

    async def stop(self, grace: float) -> None:
        """Close every connection (1012) and wait for them, at most `grace` seconds."""
        connections = list(self._connections)
        for connection in connections:
            connection.close(SERVER_RESTART)
        drains = [asyncio.ensure_future(c.wait_drained()) for c in connections]
        if drains:
            _, late = await asyncio.wait(drains, timeout=grace)
            for drain in late:
                drain.cancel()
        for channel in self._rooms.values():
            if channel.linger is not None:
                channel.linger.cancel()
        for task in [self._refresher, *self._tasks]:
            if task is not None:
                task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.broker.stop()

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    async def connections_everywhere(self) -> int:
        return await self.presence.connections(local=self.connection_count)

    @property
    def room_count(self) -> int:
        return len(self._rooms)

    def new_connection(
        self, websocket: WebSocket, *, user: UserSummary, credential: str, multiplexed: bool
    ) -> Connection:
        """A connection for `websocket`; call it from the session's own task."""
        return Connection(
            websocket,
            wire_for(websocket, direct=self.direct_wire),
            user=user,
            credential=credential,
            multiplexed=multiplexed,
            max_queue=self._queue_frames,
            stats=self.stats,
        )

    def register(self, connection: Connection, *, admitted_at: float) -> None:
        """From now on user-level frames and closes reach `connection`. A close of its user
        that came after its credential was checked (`admitted_at`, monotonic) but before this
        reaches it now: between the two, the close had no connection to find."""
        self._connections.add(connection)
        self._by_user[connection.user.id].add(connection)
        for closed_at, credential, reason in self._recent_closes.get(("user", connection.user.id), ()):
            if closed_at >= admitted_at and (not credential or credential == connection.credential):
                connection.close(reason)

    async def unregister(self, connection: Connection) -> None:
        """The connection is over: end its subscriptions and what it watches."""
        self._connections.discard(connection)
        mine = self._by_user.get(connection.user.id)
        if mine is not None:
            mine.discard(connection)
            if not mine:
                del self._by_user[connection.user.id]
        self.unwatch(connection, list(connection.watching))
        for subscription in list(connection.subscriptions.values()):
            await self.detach(subscription)

    # --- subscriptions -----------------------------------------------------

    async def attach(self, subscription: Subscription, *, admitted_at: float) -> None:
        """Make `subscription` the connection's for its room. Live frames queue up in it from
        now on, before its history is read; then `Subscription.start_live`. An end of it that
        came after its admission (`admitted_at`, monotonic) but before this ends it now."""
        channel = await self._open_channel(subscription.room_id)
        connection = subscription.connection
        user = connection.user
        self._keep(channel)
        channel.subscriptions.add(subscription)
        connection.subscriptions[subscription.room_id] = subscription
        for key in (("member", channel.room_id, user.id), ("room", channel.room_id)):
            for ended_at, _, reason in self._recent_closes.get(key, ()):
                if ended_at >= admitted_at and connection.subscriptions.get(channel.room_id) is subscription:
                    self.end(subscription, reason)
        if subscription not in channel.subscriptions:
            return
        channel.users[user.id] += 1
        if channel.users[user.id] == 1 and await self._arrive(channel.room_id, user):
            await self.publish(self.presence_envelope("join", channel.room_id, user))

    async def detach(self, subscription: Subscription) -> None:
        removed = self._remove(subscription)
        if removed is not None:
            await self._settle(*removed, subscription.connection.user)

    def end(self, subscription: Subscription, reason: CloseReason) -> None:
        """End a subscription that lost access: `unsubscribed` on /ws, a close on a room socket."""
        removed = self._remove(subscription)
        connection = subscription.connection
        if connection.multiplexed:
            connection.push(OutFrame(unsubscribed_frame(subscription.room_id, reason.reason)))
        else:
            connection.close(reason)
        if removed is not None:
            self._spawn(self._settle(*removed, connection.user))

    def _remove(self, subscription: Subscription) -> tuple[RoomChannel, bool] | None:
        """Stop delivering to `subscription`, at once. The channel it was in, if any, and
        whether it was its user's last subscription there."""
        connection = subscription.connection
        if connection.subscriptions.get(subscription.room_id) is subscription:
            del connection.subscriptions[subscription.room_id]
        channel = self._rooms.get(subscription.room_id)
        if channel is None or subscription not in channel.subscriptions:
            return None
        channel.subscriptions.discard(subscription)
        user_id = connection.user.id
        channel.users[user_id] -= 1
        last = channel.users[user_id] <= 0
        if last:
            del channel.users[user_id]
        return channel, last

    async def _settle(self, channel: RoomChannel, last: bool, user: UserSummary) -> None:
        """After a subscription went: the user's leave, if it was their last anywhere (and
        they have not come back meanwhile), and the channel's end, if nothing uses it."""
        if last and not channel.users.get(user.id):
            try:
                if await self.presence.depart(channel.room_id, user.id):
                    await self.publish(self.presence_envelope("leave", channel.room_id, user))
            except Exception:  # the shared store is down: its entries expire on their own
                logger.warning("recording a departure failed", exc_info=True)
        self._release(channel)

    async def _arrive(self, room_id: int, user: UserSummary) -> bool:
        try:
            return await self.presence.arrive(room_id, user)
        except Exception:  # the shared store is down: announce, rather than lose, the join
            logger.warning("recording an arrival failed", exc_info=True)
            return True

    @staticmethod
    def presence_envelope(kind: str, room_id: int, user: UserSummary) -> Envelope:
        return Envelope(Kind.FRAME, room_id, user_frame(kind, room_id, user), user_id=user.id, event=kind)

    # --- watching ------------------------------------------------------------

    def watch(self, connection: Connection, room_ids: Iterable[int]) -> None:
        """`connection` hears of new messages in these rooms as `activity`."""
        for room_id in room_ids:
            connection.watching.add(room_id)
            channel = self._rooms.get(room_id)
            if channel is None:
                channel = self._new_channel(room_id)
            self._keep(channel)
            channel.watchers.add(connection)

    def unwatch(self, connection: Connection, room_ids: Iterable[int]) -> None:
        for room_id in room_ids:
            connection.watching.discard(room_id)
            channel = self._rooms.get(room_id)
            if channel is not None:
                channel.watchers.discard(connection)
                self._release(channel)

    # --- recent messages -------------------------------------------------------

    def recent_history(
        self,
        room_id: int,
        *,
        admitted_at: float,
        since: int | None,
        since_rev: int | None,
        newest: int,
        replay: int,
    ) -> History | None:
        """The history a subscription joining now gets, from the room's recent messages kept
        here, exactly as of the last change delivered here; None when they cannot tell it.

        Also None when this worker began hearing the room after the subscription's admission
        (`admitted_at`, monotonic): a kick or a room deletion published elsewhere in between
        never reached it, so the history is read from the database, with the membership."""
        channel = self._rooms.get(room_id)
        if channel is None or channel.recent is None or channel.next_rev is None:
            return None
        if channel.listening_since > admitted_at:
            return None
        last_seq = channel.next_seq - 1
        found = channel.recent.history(
            last_seq=last_seq, since=since, since_rev=since_rev, newest=newest, replay=replay
        )
        if found is None:
            return None
        return History(found[0], last_seq=last_seq, last_rev=channel.next_rev - 1, truncated=found[1])

    def seed_recent(
        self, room_id: int, *, last_rev: int, first_seq: int, payloads: list[bytes], revs: list[int]
    ) -> None:
        """Messages the database gave a joining subscriber, from `first_seq` to the newest as of
        `last_rev`: kept when the room's channel stands exactly there."""
        channel = self._rooms.get(room_id)
        if channel is not None and channel.recent is not None and channel.next_rev == last_rev + 1:
            channel.recent.seed(payloads, first_seq=first_seq, revs=revs)

    # --- channels ------------------------------------------------------------

    async def _open_channel(self, room_id: int) -> RoomChannel:
        """The room's channel, subscribed and positioned in the sequence."""
        while True:
            channel = self._rooms.get(room_id) or self._new_channel(room_id)
            await asyncio.shield(channel.ready)
            if self._rooms.get(room_id) is channel:
                return channel

    def _new_channel(self, room_id: int) -> RoomChannel:
        channel = self._rooms[room_id] = RoomChannel(room_id, recent_capacity=self._recent_messages)
        self._spawn(self._position(channel))
        return channel

    def _keep(self, channel: RoomChannel) -> None:
        if channel.linger is not None:
            channel.linger.cancel()
            channel.linger = None

    def _release(self, channel: RoomChannel) -> None:
        """A channel nothing uses stays a little while when it has recent messages to offer
        (a reconnecting client finds them), then ends."""
        if not channel.unused or self._rooms.get(channel.room_id) is not channel:
            return
        if self._linger_seconds and channel.recent and channel.linger is None:
            channel.linger = asyncio.get_running_loop().call_later(
                self._linger_seconds, self._end_channel, channel
            )
            return
        if channel.linger is None:
            self._end_channel(channel)

    def _end_channel(self, channel: RoomChannel) -> None:
        channel.linger = None
        if channel.unused and self._rooms.get(channel.room_id) is channel:
            del self._rooms[channel.room_id]
            if channel.gap_timer is not None:
                channel.gap_timer.cancel()
            # Spawned now, so it reaches the broker before a new channel's subscribe.
            self._spawn(self.broker.unsubscribe([room_channel(channel.room_id)]))

    async def _position(self, channel: RoomChannel) -> None:
        try:
            # Subscribe before reading where the room stands: whatever changes after the
            # read is published after it, so it reaches us.
            await self.broker.subscribe([room_channel(channel.room_id)])
            channel.listening_since = time.monotonic()
            tops = await self._source.tops([channel.room_id])
        except Exception as exc:
            logger.warning("opening room %d failed: %r", channel.room_id, exc)
            if self._rooms.get(channel.room_id) is channel:
                del self._rooms[channel.room_id]
            channel.ready.set_exception(exc)
            channel.ready.exception()  # retrieved: nobody may be waiting (watchers only)
            return
        last_seq, last_rev = tops.get(channel.room_id, (0, 0))
        self._after_offer(channel, channel.start_at(last_rev + 1, last_seq + 1))
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
        kind = envelope.kind
        if kind is Kind.USER:
            self._deliver_to_users(envelope)
            return
        if kind is Kind.CLOSE:
            reason = CLOSE_REASONS[envelope.close]
            self._remember_close(("user", envelope.user_id), envelope.credential, reason)
            for connection in list(self._by_user.get(envelope.user_id, ())):
                if not envelope.credential or connection.credential == envelope.credential:
                    connection.close(reason)
            return
        if kind is Kind.BROADCAST:
            frame = OutFrame(envelope.frame)
            for connection in self._connections:
                if connection.greeted:
                    connection.push(frame)
            return
        if kind is Kind.END_USER:
            self._remember_close(
                ("member", envelope.room_id, envelope.user_id), "", CLOSE_REASONS[envelope.close]
            )
        elif kind is Kind.END_ROOM:
            self._remember_close(("room", envelope.room_id), "", CLOSE_REASONS[envelope.close])
        channel = self._rooms.get(envelope.room_id)
        if channel is None:
            return
        if kind is Kind.CHANGE:
            self._after_offer(channel, channel.offer(envelope))
            self._observe_broadcast(time.time() - envelope.sent_at)
        elif kind is Kind.FRAME:
            channel.broadcast(envelope)
        elif kind is Kind.END_USER:
            self._end_in(channel, CLOSE_REASONS[envelope.close], user_id=envelope.user_id)
        elif kind is Kind.END_ROOM:
            self._end_in(channel, CLOSE_REASONS[envelope.close])

    def _end_in(self, channel: RoomChannel, reason: CloseReason, user_id: int = 0) -> None:
        for subscription in list(channel.subscriptions):
            if not user_id or subscription.connection.user.id == user_id:
                self.end(subscription, reason)
        for watcher in list(channel.watchers):
            if not user_id or watcher.user.id == user_id:
                self.unwatch(watcher, [channel.room_id])

    def _deliver_to_users(self, envelope: Envelope) -> None:
        frame = OutFrame(envelope.frame)
        room_id = envelope.room_id
        for user_id in envelope.user_ids:
            for connection in list(self._by_user.get(user_id, ())):
                if not connection.greeted:
                    continue
                if connection.multiplexed:
                    connection.push(frame)
                    if envelope.event == "added":
                        self.watch(connection, [room_id])
                    elif envelope.event == "removed":
                        self.unwatch(connection, [room_id])
                elif envelope.event == "read" and room_id in connection.subscriptions:
                    connection.push(frame)

    def _remember_close(self, key: tuple[Any, ...], credential: str, reason: CloseReason) -> None:
        now = time.monotonic()
        kept = [entry for entry in self._recent_closes.get(key, ()) if entry[0] > now - CLOSE_MEMORY_SECONDS]
        self._recent_closes[key] = [*kept, (now, credential, reason)]
        # Forget the keys whose closes are all old, oldest first, so this never grows
        # without bound and a burst of closes (a mass kick) costs each close the same.
        self._close_order.append((now, key))
        while self._close_order and self._close_order[0][0] <= now - CLOSE_MEMORY_SECONDS:
            _, old = self._close_order.popleft()
            entries = self._recent_closes.get(old)
            if entries is not None and entries[-1][0] <= now - CLOSE_MEMORY_SECONDS:
                del self._recent_closes[old]

    # --- gaps and catching up --------------------------------------------

    def _after_offer(self, channel: RoomChannel, gap: bool) -> None:
        if gap and channel.gap_timer is None and not channel.filling:
            channel.gap_timer = asyncio.get_running_loop().call_later(
                self._gap_fill_seconds, self._spawn_fill, channel
            )
        elif not gap and channel.gap_timer is not None:
            channel.gap_timer.cancel()
            channel.gap_timer = None

    def _spawn_fill(self, channel: RoomChannel) -> None:
        channel.gap_timer = None
        if channel.early and self._rooms.get(channel.room_id) is channel:
            self._spawn(self._fill(channel))

    async def _fill(self, channel: RoomChannel) -> None:
        """Deliver, from the database, every change after the last one delivered."""
        if channel.next_rev is None or channel.filling:
            return
        channel.filling = True
        try:
            caught = await self._source.catch_up(channel.room_id, channel.next_rev - 1, MAX_CATCH_UP)
        except Exception:  # the database is down too: try again later
            logger.warning("catching up room %d failed", channel.room_id, exc_info=True)
            channel.filling = False
            self._after_offer(channel, True)
            return
        channel.filling = False
        if caught is None:
            return  # the room is gone; its deletion reaches the subscribers
        if caught.has_more or not self._replay(channel, caught.changes):
            logger.warning(
                "room %d: cannot replay what was missed in order; subscribers reconnect", channel.room_id
            )
            for subscription in list(channel.subscriptions):
                subscription.connection.close(QUEUE_OVERFLOW)
        self._after_offer(channel, channel.start_at(caught.last_rev + 1, caught.last_seq + 1))

    def _replay(self, channel: RoomChannel, changes: Sequence[tuple[Payload, str | None]]) -> bool:
        """Deliver missed changes in their current state, ascending rev; False (and nothing
        delivered) when new messages among them are out of seq order."""
        assert channel.next_rev is not None
        envelopes: list[Envelope] = []
        next_seq = channel.next_seq
        for payload, nonce in changes:
            rev: int = payload["rev"]
            if rev < channel.next_rev:
                continue  # arrived live while we read
            seq: int = payload["seq"]
            if seq >= next_seq:
                if seq != next_seq:
                    return False
                envelopes.append(new_message_envelope(payload, nonce))
                next_seq += 1
            elif payload["deleted"]:
                frame = delete_frame(channel.room_id, seq, rev)
                envelopes.append(
                    Envelope(Kind.CHANGE, channel.room_id, frame, rev=rev, seq=seq, event="delete")
                )
            else:
                frame = edit_frame(payload)
                envelopes.append(
                    Envelope(Kind.CHANGE, channel.room_id, frame, rev=rev, seq=seq, event="edit")
                )
        for envelope in envelopes:
            channel.deliver(envelope)
        return True

    async def _catch_up(self) -> None:
        """After a broker outage: deliver what changed meanwhile, and enforce what was lost."""
        try:
            channels = [channel for channel in self._rooms.values() if channel.next_rev is not None]
            tops = await self._source.tops([channel.room_id for channel in channels])
            for channel in channels:
                top = tops.get(channel.room_id)
                if top is not None and channel.next_rev is not None and top[1] >= channel.next_rev:
                    await self._fill(channel)
        except Exception:
            logger.exception("catching up after the outage failed")
        try:
            await self._recheck()
        except Exception:
            logger.exception("re-checking connections after the outage failed")
        try:
            await self._refresh_once()
        except Exception as exc:
            logger.warning("refreshing presence failed: %r", exc)

    async def _recheck(self) -> None:
        """Close what lost access while this worker could not hear of it; tell /ws
        connections of the rooms they gained or lost."""
        connections = list(self._connections)
        if not connections:
            return
        views = [
            ConnectionView(
                c.user.id,
                c.credential,
                c.multiplexed,
                frozenset(c.subscriptions),
                frozenset(c.watching),
                c.issued_at,
            )
            for c in connections
        ]
        verdicts = await self._source.recheck(views)
        for connection, verdict in zip(connections, verdicts, strict=True):
            self._apply(connection, verdict)

    def _apply(self, connection: Connection, verdict: Verdict) -> None:
        if verdict.close is not None:
            connection.close(verdict.close)
            return
        for room_id, reason in verdict.ended.items():
            subscription = connection.subscriptions.get(room_id)
            if subscription is not None:
                self.end(subscription, reason)
        for room_id, why in verdict.removed.items():
            connection.push(OutFrame(room_removed_frame(room_id, why)))
            self.unwatch(connection, [room_id])
        for room, role in verdict.added:
            connection.push(OutFrame(room_added_frame("room_added", room, role)))
            self.watch(connection, [room["id"]])

    # --- presence ------------------------------------------------------------

    async def _refresh_presence(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_seconds)
            try:
                await self._refresh_once()
                await self._announce_vanished()
            except Exception as exc:
                logger.warning("refreshing presence failed: %r", exc)
            stop_if_cancelled()

    async def _refresh_once(self) -> None:
        entries = {
            (channel.room_id, subscription.user.id): subscription.user
            for channel in self._rooms.values()
            for subscription in channel.subscriptions
        }
        await self.presence.refresh(
            [(room_id, user) for (room_id, _), user in entries.items()], self.connection_count
        )

    async def _announce_vanished(self) -> None:
        """People whose worker died leave presence when their entries expire: send the leave
        frames that worker never sent. Every surviving worker does this for its own
        subscribers, so nothing needs publishing."""
        channels = [channel for channel in self._rooms.values() if channel.subscriptions]
        if not channels:
            return
        present = await self.presence.present([channel.room_id for channel in channels])
        for channel in channels:
            now = present.get(channel.room_id, {})
            missing = {
                user_id
                for user_id in channel.known_present
                if user_id not in now and user_id not in channel.users
            }
            # Gone only when missing from two reads a refresh interval apart: a restarted
            # (empty) Redis loses everyone at once, and each worker puts its own people back
            # at its next refresh, within that interval. Without this wait, a worker whose
            # read came first told its clients that the other workers' people had left.
            for user_id in missing & channel.missing:
                user = channel.known_present.pop(user_id)
                channel.broadcast(self.presence_envelope("leave", channel.room_id, user))
            channel.missing = missing - channel.missing
            channel.known_present.update(now)

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def new_message_envelope(payload: Payload, nonce: str | None) -> Envelope:
    """The envelope of a newly stored message: its frame, and its activity for watchers."""
    author = UserSummary.model_validate(payload["author"])
    room_id: int = payload["room_id"]
    seq: int = payload["seq"]
    return Envelope(
        Kind.CHANGE,
        room_id,
        message_frame(payload, nonce),
        rev=payload["rev"],
        seq=seq,
        user_id=author.id,
        user_ids=tuple(payload.get("mentions") or ()),
        event="message",
        extra=activity_frame(room_id, seq, author),
    )
