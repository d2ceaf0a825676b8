from __future__ import annotations

from api.realtime.brokers.base import Broker
from api.realtime.brokers.memory import MemoryBroker
from api.realtime.brokers.redis import RedisBroker


def create_broker(url: str, *, worker_id: str) -> Broker:
    """The broker `url` names: memory:// (one process) or redis:// (many)."""
    if url.startswith("memory://"):
        return MemoryBroker()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisBroker(url, worker_id=worker_id)
    raise ValueError(f"unsupported broker URL {url!r}: use memory:// or redis://")


__all__ = ["Broker", "MemoryBroker", "RedisBroker", "create_broker"]
