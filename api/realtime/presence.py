"""Who is connected to which room, across every worker.

The hub tells the store when a user's first local connection to a room opens and
its last one closes. The store answers whether that was the user's first (or
last) connection anywhere, which is when `join` and `leave` are announced: several
tabs, on one worker or many, are one presence.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Protocol

import orjson
from redis.asyncio import Redis

from api.auth.schemas import UserSummary


class Presence(Protocol):
    async def arrive(self, room_id: int, user: UserSummary) -> bool:
        """Record this worker's first connection of `user` to the room; True when the user
        had no connection to it on any worker."""

    async def depart(self, room_id: int, user_id: int) -> bool:
        """Record that this worker's last connection of the user closed; True when the user
        has none left on any worker."""

    async def online(self, room_id: int) -> list[UserSummary]: ...

    async def present(self, room_ids: Sequence[int]) -> dict[int, dict[int, UserSummary]]:
        """`online` of several rooms at once, by user id."""

    async def refresh(self, entries: Iterable[tuple[int, UserSummary]], connections: int) -> None:
        """Keep this worker's (room, user) entries and connection count alive, and put back
        whatever a restarted (empty) store lost."""

    async def connections(self, *, local: int) -> int:
        """Open connections on every worker, given this worker's own count."""


class MemoryPresence:
    def __init__(self) -> None:
        self._rooms: defaultdict[int, dict[int, UserSummary]] = defaultdict(dict)

    async def arrive(self, room_id: int, user: UserSummary) -> bool:
        self._rooms[room_id][user.id] = user
        return True

    async def depart(self, room_id: int, user_id: int) -> bool:
        users = self._rooms.get(room_id, {})
        users.pop(user_id, None)
        if not users:
            self._rooms.pop(room_id, None)
        return True

    async def online(self, room_id: int) -> list[UserSummary]:
        return list(self._rooms.get(room_id, {}).values())

    async def present(self, room_ids: Sequence[int]) -> dict[int, dict[int, UserSummary]]:
        return {room_id: dict(self._rooms.get(room_id, {})) for room_id in room_ids}

    async def refresh(self, entries: Iterable[tuple[int, UserSummary]], connections: int) -> None:
        pass

    async def connections(self, *, local: int) -> int:
        return local


# Per room, a sorted set of user ids and, per (room, user), a sorted set of the
# workers holding a connection; scores are expiry times, so the entries of a worker
# that died without cleaning up vanish after the TTL. Each script is atomic, which
# is what makes "first anywhere" and "last anywhere" exact under concurrency.
_ARRIVE = """
local now, deadline, ttl_ms = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local others = redis.call('ZCARD', KEYS[2]) - (redis.call('ZSCORE', KEYS[2], ARGV[4]) and 1 or 0)
redis.call('ZADD', KEYS[2], deadline, ARGV[4])
redis.call('ZADD', KEYS[1], 'GT', deadline, ARGV[5])
redis.call('HSET', KEYS[3], ARGV[5], ARGV[6])
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ttl_ms * 4) end
if others == 0 then return 1 else return 0 end
"""

_DEPART = """
local now = tonumber(ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) == 0 then
  redis.call('ZREM', KEYS[1], ARGV[3])
  return 1
end
return 0
"""


_ONLINE = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '+inf')
if #ids == 0 then return {} end
return redis.call('HMGET', KEYS[2], unpack(ids))
"""


class RedisPresence:
    def __init__(self, redis: Redis, *, worker_id: str, ttl_seconds: float) -> None:
        self._redis = redis
        self._worker = worker_id
        self._ttl = ttl_seconds
        self._arrive = redis.register_script(_ARRIVE)
        self._depart = redis.register_script(_DEPART)
        self._online = redis.register_script(_ONLINE)

    async def arrive(self, room_id: int, user: UserSummary) -> bool:
        now = _now_ms()
        summary = orjson.dumps(user.model_dump())
        first = await self._arrive(
            keys=_keys(room_id, user.id),
            args=[now, now + self._ttl_ms, self._ttl_ms, self._worker, user.id, summary],
        )
        return bool(first)

    async def depart(self, room_id: int, user_id: int) -> bool:
        last = await self._depart(keys=_keys(room_id, user_id)[:2], args=[_now_ms(), self._worker, user_id])
        return bool(last)

    async def online(self, room_id: int) -> list[UserSummary]:
        room_key, _, names_key = _keys(room_id, 0)
        summaries = await self._online(keys=[room_key, names_key], args=[_now_ms()])
        return _summaries(summaries)

    async def present(self, room_ids: Sequence[int]) -> dict[int, dict[int, UserSummary]]:
        now = _now_ms()
        async with self._redis.pipeline(transaction=False) as pipe:
            for room_id in room_ids:
                room_key, _, names_key = _keys(room_id, 0)
                await self._online(keys=[room_key, names_key], args=[now], client=pipe)
            results = await pipe.execute()
        return {
            room_id: {user.id: user for user in _summaries(found)}
            for room_id, found in zip(room_ids, results, strict=True)
        }

    async def refresh(self, entries: Iterable[tuple[int, UserSummary]], connections: int) -> None:
        deadline = _now_ms() + self._ttl_ms
        async with self._redis.pipeline(transaction=False) as pipe:
            for room_id, user in entries:
                room_key, user_key, names_key = _keys(room_id, user.id)
                pipe.zadd(user_key, {self._worker: deadline})
                pipe.zadd(room_key, {str(user.id): deadline}, gt=True)
                # A restarted Redis comes back empty: without the name, `online` skips the user.
                pipe.hset(names_key, str(user.id), orjson.dumps(user.model_dump()))
                for key in (room_key, user_key, names_key):
                    pipe.pexpire(key, self._ttl_ms * 4)
            pipe.set(self._connections_key, connections, px=self._ttl_ms)
            await pipe.execute()

    async def connections(self, *, local: int) -> int:
        own = self._connections_key.encode()
        keys = [key async for key in self._redis.scan_iter(match="hubbub:connections:*", count=1000)]
        others = [key for key in keys if key != own]
        values = await self._redis.mget(others) if others else []
        return local + sum(int(value) for value in values if value is not None)

    @property
    def _connections_key(self) -> str:
        return f"hubbub:connections:{self._worker}"

    @property
    def _ttl_ms(self) -> int:
        return int(self._ttl * 1000)


def _keys(room_id: int, user_id: int) -> list[str]:
    return [
        f"hubbub:presence:{room_id}",
        f"hubbub:presence:{room_id}:{user_id}",
        f"hubbub:presence-names:{room_id}",
    ]


def _summaries(found: list[bytes | None]) -> list[UserSummary]:
    return [UserSummary.model_validate_json(summary) for summary in found if summary is not None]


def _now_ms() -> int:
    return int(time.time() * 1000)
