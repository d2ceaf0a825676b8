"""Redis pub/sub between worker processes.

One pub/sub connection per worker, read by one task. A room's channel is
subscribed while the worker has connections to that room. When the connection
drops, the reader reconnects with backoff, subscribes again to every channel
still wanted, waits for Redis to confirm them, and only then calls `on_resume`,
so that what the hub then reads from the database and what arrives live overlap
instead of leaving a gap. redis-py's own silent reconnect is turned off for the
pub/sub connection: a reconnect we did not see would be a gap we did not fill.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from api.cancellation import stop_if_cancelled
from api.realtime.brokers.base import Deliver, OnResume
from api.realtime.envelope import USERS_CHANNEL, Envelope

logger = logging.getLogger(__name__)

SUBSCRIBE_TIMEOUT = 5.0
MAX_BACKOFF = 5.0


class RedisBroker:
    def __init__(self, url: str, *, worker_id: str) -> None:
        self._worker_id = worker_id
        # Commands (publishing, presence, the send limit, metrics) retry a connection error
        # once, at once, on a fresh connection: after a Redis restart every pooled connection
        # is dead, and without this each one fails one call. (Redis.from_url's pool retries
        # nothing by default.) A script the restarted Redis no longer knows is loaded again
        # by redis-py itself (NOSCRIPT). Timeouts are not retried: that would double them.
        self._commands = Redis.from_url(
            url,
            socket_connect_timeout=2,
            socket_timeout=5,
            retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
        )
        self._listener = Redis.from_url(
            url, socket_connect_timeout=2, socket_timeout=None, retry=Retry(NoBackoff(), 0)
        )
        self._wanted: set[str] = {USERS_CHANNEL}
        # Subscribing and unsubscribing take turns, in the order they were asked for: an
        # unsubscribe must never overtake the subscribe of a channel opened again right after.
        self._lock = asyncio.Lock()
        self._confirmations: dict[str, asyncio.Future[None]] = {}
        self._pubsub: PubSub | None = None
        self._task: asyncio.Task[None] | None = None
        self._resume: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self.reconnects = 0

    @property
    def healthy(self) -> bool:
        return self._connected.is_set()

    @property
    def client(self) -> Redis:
        """For the other shared state that lives in Redis (presence, rate limits)."""
        return self._commands

    async def start(self, *, deliver: Deliver, on_resume: OnResume) -> None:
        self._task = asyncio.create_task(self._listen(deliver, on_resume), name="redis-broker")
        try:
            await asyncio.wait_for(self._connected.wait(), SUBSCRIBE_TIMEOUT)
        except TimeoutError:
            logger.warning("Redis is unreachable; live delivery across workers waits for it")

    async def stop(self) -> None:
        for task in (self._task, self._resume):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        await self._listener.aclose()
        await self._commands.aclose()

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        if not envelopes:
            return
        async with self._commands.pipeline(transaction=False) as pipe:
            for envelope in envelopes:
                envelope.origin = self._worker_id
                pipe.publish(envelope.channel, envelope.encode())
            await pipe.execute()

    async def subscribe(self, channels: Sequence[str]) -> None:
        async with self._lock:
            self._wanted.update(channels)
            pubsub = self._pubsub
            if pubsub is None:
                return  # the reader subscribes to everything wanted when it reconnects
            loop = asyncio.get_running_loop()
            waiting = {channel: loop.create_future() for channel in channels}
            self._confirmations.update(waiting)
            try:
                await pubsub.subscribe(*channels)
                await asyncio.wait_for(asyncio.shield(asyncio.gather(*waiting.values())), SUBSCRIBE_TIMEOUT)
            except (RedisError, OSError, TimeoutError) as exc:
                # The reader will notice the broken connection and resubscribe.
                logger.warning("subscribing to %d channels failed: %r", len(channels), exc)
            finally:
                for channel, future in waiting.items():
                    if self._confirmations.get(channel) is future:
                        del self._confirmations[channel]
                    if future.done() and not future.cancelled():
                        future.exception()  # retrieved, whether or not gather saw it

    async def unsubscribe(self, channels: Sequence[str]) -> None:
        async with self._lock:
            self._wanted.difference_update(channels)
            pubsub = self._pubsub
            if pubsub is not None:
                try:
                    await pubsub.unsubscribe(*channels)
                except (RedisError, OSError) as exc:
                    logger.warning("unsubscribing from %d channels failed: %r", len(channels), exc)

    async def _listen(self, deliver: Deliver, on_resume: OnResume) -> None:
        backoff = 0.1
        first = True
        while True:
            pubsub = self._listener.pubsub()
            try:
                channels = sorted(self._wanted)
                await pubsub.subscribe(*channels)
                await self._await_confirmations(pubsub, set(channels), deliver)
                self._pubsub = pubsub
                self._connected.set()
                backoff = 0.1
                if not first:
                    self.reconnects += 1
                    logger.info("Redis is back; catching up from the database")
                    self._resume = asyncio.create_task(on_resume(), name="broker-resume")
                first = False
                while True:
                    self._handle(await pubsub.parse_response(block=True), deliver)
                    stop_if_cancelled()
            except (RedisError, OSError) as exc:
                if self._connected.is_set():
                    logger.warning("lost the Redis connection: %r", exc)
                self._connected.clear()
                self._pubsub = None
                for future in self._confirmations.values():
                    if not future.done():
                        future.set_exception(ConnectionError("Redis connection lost"))
                stop_if_cancelled()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
            finally:
                self._pubsub = None
                await _close_quietly(pubsub)

    async def _await_confirmations(self, pubsub: PubSub, channels: set[str], deliver: Deliver) -> None:
        while channels:
            response = await pubsub.parse_response(block=True)
            confirmed = self._handle(response, deliver)
            if confirmed is not None:
                channels.discard(confirmed)

    def _handle(self, response: Any, deliver: Deliver) -> str | None:
        """Deliver a published envelope; return the channel a subscription confirms."""
        kind: bytes = response[0]
        channel: str = response[1].decode()
        if kind == b"message":
            envelope = Envelope.decode(response[2])
            if envelope.origin != self._worker_id:
                try:
                    deliver(envelope)
                except Exception:  # one bad envelope must not stop delivery of the rest
                    logger.exception("delivering an envelope from %s failed", channel)
            return None
        if kind == b"subscribe":
            future = self._confirmations.get(channel)
            if future is not None and not future.done():
                future.set_result(None)
            return channel
        return None


async def _close_quietly(pubsub: PubSub) -> None:
    try:
        await pubsub.aclose()  # type: ignore[no-untyped-call]
    except (RedisError, OSError) as exc:
        logger.debug("closing a broken pub/sub connection: %r", exc)
