"""One client connection, and its subscriptions to rooms.

A connection is one WebSocket: `/ws` (any number of subscriptions) or `/ws/rooms/{id}`
(exactly one). Frames go straight to its wire, or wait in one bounded backlog.

Fan-out only ever calls `push`, which never awaits. While the client keeps up, a frame is
written at once. When its transport pushes back, frames queue up and one task (started
then, gone when the backlog is empty) waits for the client. A client whose backlog fills
is closed with 1013 and reconnects with `since`/`since_rev`, losing nothing. An idle
connection costs no task at all.

A subscription holds back its room's live frames until its history frame is out, then
lets through only those the history does not already hold (by rev).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from starlette.websockets import WebSocket

from api.auth.schemas import UserSummary
from api.realtime.protocol import QUEUE_OVERFLOW, CloseReason
from api.realtime.wire import OutFrame, Wire

logger = logging.getLogger(__name__)

# The credential of a connection opened with a login access token; API tokens are "api:<id>".
LOGIN_CREDENTIAL = "login"


def api_credential(token_id: int) -> str:
    return f"api:{token_id}"


def api_token_of(credential: str) -> int | None:
    """The id of the API token a credential names; None for a login's."""
    kind, _, token_id = credential.partition(":")
    return int(token_id) if kind == "api" and token_id.isdigit() else None


# Seconds a client that stopped reading gets to take its close frame before it is cut off.
CLOSE_GRACE = 10.0


@dataclass(slots=True)
class DeliveryStats:
    """Plain counters on the hot path; the metrics collector reads them at scrape time."""

    frames_sent: int = 0
    frames_dropped: int = 0
    overflows: int = 0


class Connection:
    __slots__ = (
        "_backlog",
        "_drainer",
        "_stats",
        "_websocket",
        "_wire",
        "aborted",
        "closing",
        "credential",
        "greeted",
        "issued_at",
        "max_queue",
        "multiplexed",
        "subscriptions",
        "user",
        "watching",
    )

    def __init__(
        self,
        websocket: WebSocket,
        wire: Wire,
        *,
        user: UserSummary,
        credential: str,
        multiplexed: bool,
        max_queue: int,
        stats: DeliveryStats,
    ) -> None:
        self._websocket = websocket
        self._wire = wire
        self.user = user
        # What the connection was opened with ("login", or "api:<id>" for an API token):
        # revoking a credential closes the connections that hold it.
        self.credential = credential
        # When that credential was issued: a logout-all refuses login tokens issued before it.
        self.issued_at: datetime | None = None
        # /ws (user-level frames, many subscriptions) or a room socket (one).
        self.multiplexed = multiplexed
        self.max_queue = max_queue
        self.subscriptions: dict[int, Subscription] = {}
        # Rooms whose new messages this /ws connection hears of as `activity`.
        self.watching: set[int] = set()
        # Its first frame (`ready`, or a room socket's history) is out: frames that are not
        # about a room it follows (announcements, user-level frames) may reach it now.
        self.greeted = False
        self.closing: CloseReason | None = None
        self.aborted = False
        self._backlog: deque[OutFrame] | None = None
        self._drainer: asyncio.Task[None] | None = None
        self._stats = stats

    def push(self, frame: OutFrame) -> None:
        """Send or queue a frame. Never awaits."""
        if self.closing is not None:
            return
        if self._drainer is None and self._wire.try_write(frame):
            self._stats.frames_sent += 1
            return
        backlog = self._backlog
        if backlog is None:
            backlog = self._backlog = deque()
        if len(backlog) >= self.max_queue:
            self.overflow()
            return
        backlog.append(frame)
        if self._drainer is None:
            self._drainer = asyncio.create_task(self._drain(), name=f"ws-drain-{self.user.id}")

    def overflow(self) -> None:
        self._stats.overflows += 1
        self.close(QUEUE_OVERFLOW)

    def close(self, reason: CloseReason) -> None:
        """Close soon with `reason`; frames not sent yet are dropped. A client that does
        not take the close frame within CLOSE_GRACE seconds is cut off."""
        if self.closing is not None:
            return
        self.closing = reason
        if self._backlog:
            self._stats.frames_dropped += len(self._backlog)
            self._backlog.clear()
        if self._drainer is None:
            self._drainer = asyncio.create_task(self._drain(), name=f"ws-close-{self.user.id}")
        asyncio.get_running_loop().call_later(CLOSE_GRACE, self.abort)

    def abort(self) -> None:
        self.aborted = True
        self._wire.abort()

    async def stop(self) -> None:
        """The session is over: stop waiting for a client that is gone."""
        drainer = self._drainer
        if drainer is not None and drainer is not asyncio.current_task():
            drainer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await drainer

    async def wait_drained(self) -> None:
        if self._drainer is not None:
            await asyncio.wait({self._drainer})

    async def _drain(self) -> None:
        try:
            while self._backlog:
                frame = self._backlog.popleft()
                if not self._wire.try_write(frame):
                    await self._wire.write(frame)
                self._stats.frames_sent += 1
            if self.closing is not None:
                await self._websocket.close(self.closing.code, self.closing.reason)
        except (OSError, RuntimeError) as exc:  # the client is gone; the session notices too
            logger.debug("a connection ended while sending: %r", exc)
        finally:
            self._drainer = None


class Subscription:
    """One connection's subscription to one room."""

    __slots__ = ("_pending", "connection", "last_rev", "room_id")

    def __init__(self, connection: Connection, room_id: int) -> None:
        self.connection = connection
        self.room_id = room_id
        # The highest rev delivered or queued: a change at or below it is a duplicate.
        self.last_rev = 0
        # Live frames (with their rev, 0 for unnumbered ones) held until the history is out.
        self._pending: list[tuple[int, OutFrame]] | None = []

    @property
    def user(self) -> UserSummary:
        return self.connection.user

    @property
    def live(self) -> bool:
        return self._pending is None

    def offer(self, frame: OutFrame, rev: int = 0) -> None:
        """Deliver a frame of the room; `rev` for changes, which are dropped when already held."""
        if rev:
            if rev <= self.last_rev:
                return
            self.last_rev = rev
        pending = self._pending
        if pending is None:
            self.connection.push(frame)
        elif len(pending) >= self.connection.max_queue:
            self.connection.overflow()
        else:
            pending.append((rev, frame))

    def start_live(self, history_last_rev: int) -> None:
        """The history frame, current as of `history_last_rev`, is out: let live frames flow,
        but not the changes the history already holds."""
        self.last_rev = max(self.last_rev, history_last_rev)
        pending, self._pending = self._pending, None
        for rev, frame in pending or ():
            if not rev or rev > history_last_rev:
                self.connection.push(frame)
