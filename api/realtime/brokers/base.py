"""The broker carries envelopes between worker processes. The hub delivers to its own
connections itself, so a broker only has to reach the other workers."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Protocol

from api.realtime.envelope import Envelope

Deliver = Callable[[Envelope], None]
OnResume = Callable[[], Coroutine[Any, Any, None]]


class Broker(Protocol):
    @property
    def healthy(self) -> bool:
        """Connected, so what other workers publish reaches us."""

    async def start(self, *, deliver: Deliver, on_resume: OnResume) -> None:
        """Connect; `deliver` gets what other workers publish on subscribed channels, and
        `on_resume` runs after a lost connection is back (subscriptions restored)."""

    async def stop(self) -> None: ...

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        """Send to the other workers, in order; raises when the broker is unreachable."""

    async def subscribe(self, channels: Sequence[str]) -> None:
        """Returns once envelopes published on `channels` from now on will be delivered."""

    async def unsubscribe(self, channels: Sequence[str]) -> None: ...
