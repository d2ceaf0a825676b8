from __future__ import annotations

from collections.abc import Sequence

from api.realtime.brokers.base import Deliver, OnResume
from api.realtime.envelope import Envelope


class MemoryBroker:
    """One process, so there is nobody else to reach: every verb is a no-op."""

    @property
    def healthy(self) -> bool:
        return True

    async def start(self, *, deliver: Deliver, on_resume: OnResume) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        pass

    async def subscribe(self, channels: Sequence[str]) -> None:
        pass

    async def unsubscribe(self, channels: Sequence[str]) -> None:
        pass
