"""Token buckets: the per-user send limit (shared by HTTP and WebSocket sends, and by every
worker when Redis is configured) and the per-connection frame limit."""

from __future__ import annotations

import logging
import time
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)


class TokenBucket:
    """`rate` tokens a second up to `burst`; not shared, not thread-safe, and cheap."""

    __slots__ = ("_burst", "_rate", "_tokens", "_updated")

    def __init__(self, rate: float, burst: float) -> None:
        self._rate = rate
        self._burst = burst
        self._tokens = burst
        self._updated = time.monotonic()

    def take(self) -> float:
        """0 when a token was taken, else the seconds until one is available."""
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
        self._updated = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self._rate


class SendLimiter(Protocol):
    async def take(self, user_id: int) -> float:
        """0 when `user_id` may send now, else the seconds to wait."""


class Unlimited:
    async def take(self, user_id: int) -> float:
        return 0.0


class MemorySendLimiter:
    def __init__(self, rate: float, burst: int) -> None:
        self._rate = rate
        self._burst = burst
        self._buckets: dict[int, TokenBucket] = {}

    async def take(self, user_id: int) -> float:
        bucket = self._buckets.get(user_id)
        if bucket is None:
            bucket = self._buckets[user_id] = TokenBucket(self._rate, self._burst)
        return bucket.take()


# The same bucket as TokenBucket, kept in a Redis hash and updated atomically; the
# server's clock, not the workers', measures time.
_TAKE = """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1e6
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens, updated = tonumber(state[1]) or burst, tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - updated) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""


class RedisSendLimiter:
    """The bucket every worker shares. While Redis is unreachable each worker keeps the limit
    alone: sends are stored in the database, which is up, and must not stop with Redis."""

    def __init__(self, redis: Redis, rate: float, burst: int) -> None:
        self._rate = rate
        self._burst = burst
        self._take = redis.register_script(_TAKE)
        self._alone = MemorySendLimiter(rate, burst)
        self._unreachable = False

    async def take(self, user_id: int) -> float:
        try:
            wait = await self._take(keys=[f"hubbub:send-bucket:{user_id}"], args=[self._rate, self._burst])
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            if not self._unreachable:
                logger.warning("the shared send limit is unreachable (%r); each worker limits alone", exc)
                self._unreachable = True
            return await self._alone.take(user_id)
        if self._unreachable:
            logger.info("the shared send limit is back")
            self._unreachable = False
        return float(wait)


def create_send_limiter(*, rate: float, burst: int, redis: Redis | None) -> SendLimiter:
    if rate <= 0:
        return Unlimited()
    if redis is not None:
        return RedisSendLimiter(redis, rate, burst)
    return MemorySendLimiter(rate, burst)
