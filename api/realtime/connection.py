"""One client connection: its bounded outbound queue and the task that drains it.

Fan-out only ever calls `push`, which never awaits: a slow client costs the room
nothing but a queue append. When a client reads too slowly and its queue fills,
it is closed with 1013 and reconnects with `since`, losing nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass

from starlette.websockets import WebSocket

from api.auth.schemas import UserSummary
from api.realtime.protocol import QUEUE_OVERFLOW, CloseReason

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class DeliveryStats:
    """Plain counters on the hot path; the metrics collector reads them at scrape time."""

    frames_sent: int = 0
    frames_dropped: int = 0
    overflows: int = 0


class Connection:
    __slots__ = (
        "_close_timer",
        "_queue",
        "_stats",
        "_wakeup",
        "closing",
        "last_seq",
        "max_queue",
        "room_id",
        "sender",
        "user",
        "websocket",
    )

    def __init__(
        self,
        websocket: WebSocket,
        *,
        user: UserSummary,
        room_id: int,
        max_queue: int,
        stats: DeliveryStats,
    ) -> None:
        self.websocket = websocket
        self.user = user
        self.room_id = room_id
        self.max_queue = max_queue
        # Highest message seq queued: anything at or below it is a duplicate.
        self.last_seq = 0
        self.closing: CloseReason | None = None
        self.sender: asyncio.Task[None] | None = None
        self._queue: deque[tuple[int, str]] = deque()
        self._wakeup = asyncio.Event()
        self._stats = stats
        self._close_timer: asyncio.TimerHandle | None = None

    def push(self, frame: str, seq: int = 0) -> None:
        """Queue a frame; `seq` for message frames, which are dropped when already seen."""
        if self.closing is not None:
            return
        if seq:
            if seq <= self.last_seq:
                return
            self.last_seq = seq
        if len(self._queue) >= self.max_queue:
            self._stats.overflows += 1
            self.close(QUEUE_OVERFLOW)
            return
        self._queue.append((seq, frame))
        self._wakeup.set()

    def start_after_history(self, last_seq: int) -> None:
        """Begin live delivery after a history frame that ends at `last_seq`.

        Frames queued while the history was read are kept, but messages the
        history already holds are dropped: subscribe first, query, then dedupe.
        """
        if last_seq > self.last_seq:
            self.last_seq = last_seq
        if any(seq and seq <= last_seq for seq, _ in self._queue):
            self._queue = deque(item for item in self._queue if not item[0] or item[0] > last_seq)
        self.sender = asyncio.create_task(self._send_queued(), name=f"ws-sender-{self.user.id}")

    def close(self, reason: CloseReason, *, grace: float = 10.0) -> None:
        """Close soon with `reason`. Frames not yet sent are dropped; a client that does
        not read for `grace` seconds more is cut off without a close frame."""
        if self.closing is not None:
            return
        self.closing = reason
        self._stats.frames_dropped += len(self._queue)
        self._queue.clear()
        self._wakeup.set()
        if self.sender is None:
            return
        self._close_timer = asyncio.get_running_loop().call_later(grace, self.sender.cancel)

    async def _send_queued(self) -> None:
        send = self.websocket.send_text
        queue = self._queue
        try:
            while True:
                while queue:
                    await send(queue.popleft()[1])
                    self._stats.frames_sent += 1
                if self.closing is not None:
                    await self.websocket.close(self.closing.code, self.closing.reason)
                    return
                self._wakeup.clear()
                await self._wakeup.wait()
        finally:
            if self._close_timer is not None:
                self._close_timer.cancel()
