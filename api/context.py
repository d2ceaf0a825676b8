"""Everything one running app owns, created in its lifespan: no module-level state."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from redis.asyncio import Redis

from api.auth.passwords import PasswordHasher
from api.auth.throttle import LoginThrottle, SignupThrottle
from api.config import Settings
from api.db import Database
from api.messages.writer import MessageWriter, ReadMoved, Stored
from api.metrics import Metrics
from api.migrate import ensure_current
from api.ratelimit import SendLimiter, create_send_limiter
from api.realtime.brokers import RedisBroker, create_broker
from api.realtime.events import RoomEvents
from api.realtime.hub import Hub
from api.realtime.presence import MemoryPresence, Presence, RedisPresence
from api.realtime.source import database_source
from api.realtime.wirecheck import direct_wire_works
from api.tokens.usage import TokenUsage

# How long a room this worker follows for nobody any more keeps its recent messages, for
# the clients that come back (a reconnect, a reload, switching rooms and back).
CHANNEL_LINGER_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class AppContext:
    settings: Settings
    db: Database
    hasher: PasswordHasher
    throttle: LoginThrottle
    signup_throttle: SignupThrottle
    send_limiter: SendLimiter
    hub: Hub
    events: RoomEvents
    writer: MessageWriter
    metrics: Metrics
    token_usage: TokenUsage


@asynccontextmanager
async def open_context(settings: Settings) -> AsyncIterator[AppContext]:
    worker_id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
    db = Database(settings.database_url)
    try:
        await ensure_current(db)
    except BaseException:
        await db.dispose()
        raise
    hasher = PasswordHasher(settings)
    broker = create_broker(settings.broker_url, worker_id=worker_id)
    redis: Redis | None = broker.client if isinstance(broker, RedisBroker) else None
    presence: Presence = (
        RedisPresence(redis, worker_id=worker_id, ttl_seconds=settings.presence_ttl_seconds)
        if redis is not None
        else MemoryPresence()
    )
    metrics = Metrics(worker_id=worker_id)
    if redis is not None:
        metrics.share_through(redis, interval=settings.metrics_interval_seconds)
    hub = Hub(
        broker=broker,
        presence=presence,
        source=database_source(db),
        queue_frames=settings.ws_queue_frames,
        gap_fill_seconds=settings.gap_fill_seconds,
        presence_refresh_seconds=settings.presence_ttl_seconds / 3,
        observe_broadcast=metrics.broadcast_seconds.observe,
        direct_wire=await direct_wire_works(),
        recent_messages=settings.history_cache_messages,
        linger_seconds=CHANNEL_LINGER_SECONDS,
    )
    events = RoomEvents(hub)

    async def on_stored(stored: Sequence[Stored], reads: Sequence[ReadMoved]) -> None:
        metrics.messages_stored.inc(len(stored))
        await events.messages_stored(stored, reads)

    writer = MessageWriter(db, on_stored=on_stored)
    context = AppContext(
        settings=settings,
        db=db,
        hasher=hasher,
        throttle=LoginThrottle(
            db,
            max_failures=settings.login_max_failures,
            window_seconds=settings.login_window_seconds,
            max_failures_per_address=settings.login_failures_per_address,
        ),
        signup_throttle=SignupThrottle(db, per_hour=settings.signup_per_hour),
        send_limiter=create_send_limiter(rate=settings.send_rate, burst=settings.send_burst, redis=redis),
        hub=hub,
        events=events,
        writer=writer,
        metrics=metrics,
        token_usage=TokenUsage(db),
    )
    metrics.watch(context)
    try:
        await hub.start()
        writer.start()
        await metrics.start()
        yield context
    finally:
        await metrics.stop()
        await hub.stop(grace=settings.shutdown_grace_seconds)
        await writer.stop()
        hasher.close()
        await db.dispose()
