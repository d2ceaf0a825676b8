"""One client connection: frames go straight to its wire, or wait in a bounded backlog.

Fan-out only ever calls `push`, which never awaits. While the client keeps up,
a frame is written at once. When its transport pushes back, frames queue up and
one task (started then, gone when the backlog is empty) waits for the client.
A client whose backlog fills is closed with 1013 and reconnects with `since`,
losing nothing. An idle connection costs no task at all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass

from starlette.websockets import WebSocket

from api.auth.schemas import UserSummary
from api.realtime.protocol import QUEUE_OVERFLOW, CloseReason
from api.realtime.wire import OutFrame, Wire

logger = logging.getLogger(__name__)

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
        "last_seq",
        "live",
        "max_queue",
        "room_id",
        "user",
    )

    def __init__(
        self,
        websocket: WebSocket,
        wire: Wire,
        *,
        user: UserSummary,
        room_id: int,
        max_queue: int,
        stats: DeliveryStats,
    ) -> None:
        self._websocket = websocket
        self._wire = wire
        self.user = user
        self.room_id = room_id
        self.max_queue = max_queue
        # Highest message seq queued or sent: anything at or below it is a duplicate.
        self.last_seq = 0
        # Frames wait until the history frame is out; then they flow.
        self.live = False
        self.closing: CloseReason | None = None
        self.aborted = False
        self._backlog: deque[tuple[int, OutFrame]] | None = None
        self._drainer: asyncio.Task[None] | None = None
        self._stats = stats

    def push(self, frame: OutFrame, seq: int = 0) -> None:
        """Send or queue a frame; `seq` for message frames, which are dropped when already seen."""
        if self.closing is not None:
            return
        if seq:
            if seq <= self.last_seq:
                return
            self.last_seq = seq
        if self.live and self._drainer is None and self._wire.try_write(frame):
            self._stats.frames_sent += 1
            return
        backlog = self._backlog
        if backlog is None:
            backlog = self._backlog = deque()
        if len(backlog) >= self.max_queue:
            self._stats.overflows += 1
            self.close(QUEUE_OVERFLOW)
            return
        backlog.append((seq, frame))
        if self.live and self._drainer is None:
            self._drainer = asyncio.create_task(self._drain(), name=f"ws-drain-{self.user.id}")

    def start_live(self, history_last_seq: int) -> None:
        """Begin live delivery after a history frame that ends at `history_last_seq`.

        Frames queued while the history was read are kept, but messages the
        history already holds are dropped: subscribe first, query, then dedupe.
        """
        self.last_seq = max(self.last_seq, history_last_seq)
        if self._backlog:
            self._backlog = deque(item for item in self._backlog if not item[0] or item[0] > history_last_seq)
        self.live = True
        if self._backlog or self.closing is not None:
            self._drainer = asyncio.create_task(self._drain(), name=f"ws-drain-{self.user.id}")

    def close(self, reason: CloseReason) -> None:
        """Close soon with `reason`; frames not sent yet are dropped. A client that does
        not take the close frame within CLOSE_GRACE seconds is cut off."""
        if self.closing is not None:
            return
        self.closing = reason
        if self._backlog:
            self._stats.frames_dropped += len(self._backlog)
            self._backlog.clear()
        if self.live and self._drainer is None:
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
                _, frame = self._backlog.popleft()
                if not self._wire.try_write(frame):
                    await self._wire.write(frame)
                self._stats.frames_sent += 1
            if self.closing is not None:
                await self._websocket.close(self.closing.code, self.closing.reason)
        except (OSError, RuntimeError) as exc:  # the client is gone; the session notices too
            logger.debug("a connection ended while sending: %r", exc)
        finally:
            self._drainer = None
