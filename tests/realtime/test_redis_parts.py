"""The Redis-backed parts against a real Redis: broker, presence, the shared send limit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from api.auth.schemas import UserSummary
from api.ratelimit import RedisSendLimiter
from api.realtime.brokers.redis import RedisBroker
from api.realtime.envelope import Envelope, Kind, room_channel
from api.realtime.presence import RedisPresence
from tests.conftest import unavailable
from tests.servers import PrivateRedis

ADA = UserSummary(id=1, username="ada", display_name="Ada")


class Inbox:
    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.arrived = asyncio.Event()

    def deliver(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)
        self.arrived.set()

    async def resumed(self) -> None:
        pass


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def start_broker(url: str, worker: str, inbox: Inbox) -> RedisBroker:
    broker = RedisBroker(url, worker_id=worker)
    await broker.start(deliver=inbox.deliver, on_resume=inbox.resumed)
    assert broker.healthy
    return broker


async def test_envelopes_reach_other_workers_only(redis_url: str, redis_client: Redis) -> None:
    inbox_a, inbox_b = Inbox(), Inbox()
    a = await start_broker(redis_url, "a", inbox_a)
    b = await start_broker(redis_url, "b", inbox_b)
    try:
        await b.subscribe([room_channel(5), room_channel(6)])
        await a.subscribe([room_channel(5)])
        sent = Envelope(Kind.CHANGE, 5, '{"type":"message"}', rev=1, seq=1)
        await a.publish([sent])
        await asyncio.wait_for(inbox_b.arrived.wait(), 5)
        assert inbox_b.envelopes[0].frame == sent.frame and inbox_b.envelopes[0].seq == 1
        await asyncio.sleep(0.1)
        assert inbox_a.envelopes == []  # a worker does not hear itself
        # Unsubscribed when the last local connection leaves.
        channel = room_channel(5)
        assert (await redis_client.pubsub_numsub(channel))[0][1] == 2
        await b.unsubscribe([channel])
        await asyncio.sleep(0.1)
        assert (await redis_client.pubsub_numsub(channel))[0][1] == 1
    finally:
        await a.stop()
        await b.stop()


async def test_presence_is_one_per_user_across_workers(redis_client: Redis) -> None:
    a = RedisPresence(redis_client, worker_id="a", ttl_seconds=30)
    b = RedisPresence(redis_client, worker_id="b", ttl_seconds=30)
    assert await a.arrive(9, ADA) is True
    assert await b.arrive(9, ADA) is False  # already here through worker a
    assert [u.id for u in await b.online(9)] == [1]
    assert await a.depart(9, ADA.id) is False  # still here through worker b
    assert await b.depart(9, ADA.id) is True
    assert await a.online(9) == []


async def test_a_crashed_workers_presence_expires(redis_client: Redis) -> None:
    crashed = RedisPresence(redis_client, worker_id="crashed", ttl_seconds=1.5)
    alive = RedisPresence(redis_client, worker_id="alive", ttl_seconds=30)
    await crashed.arrive(9, ADA)
    assert [u.id for u in await alive.online(9)] == [1]
    # The crashed worker never refreshes: its entry runs out by itself.
    async with asyncio.timeout(10):
        while True:  # polling Redis: there is no event to wait for
            if not await alive.online(9):
                break
            await asyncio.sleep(0.1)
    assert await alive.arrive(9, ADA) is True


async def test_a_refresh_puts_back_what_a_restarted_redis_lost(redis_client: Redis) -> None:
    worker = RedisPresence(redis_client, worker_id="a", ttl_seconds=30)
    await worker.arrive(9, ADA)
    await redis_client.flushdb()  # what a Redis restart leaves: nothing
    assert await worker.online(9) == []
    await worker.refresh([(9, ADA)], connections=1)
    assert await worker.online(9) == [ADA]
    assert await worker.present([9, 10]) == {9: {ADA.id: ADA}, 10: {}}


async def test_connection_counts_add_up_across_workers(redis_client: Redis) -> None:
    a = RedisPresence(redis_client, worker_id="a", ttl_seconds=30)
    b = RedisPresence(redis_client, worker_id="b", ttl_seconds=30)
    await a.refresh([(9, ADA)], connections=3)
    await b.refresh([], connections=4)
    assert await a.connections(local=5) == 9  # a's own count is the live one


async def test_the_send_limit_is_shared_by_workers(redis_client: Redis) -> None:
    a = RedisSendLimiter(redis_client, rate=1, burst=3)
    b = RedisSendLimiter(redis_client, rate=1, burst=3)
    waits = [await limiter.take(42) for limiter in (a, b, a, b)]
    assert waits[:3] == [0, 0, 0]
    assert 0.5 < waits[3] <= 1.0
    assert await a.take(43) == 0  # another user has a bucket of their own


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    try:
        server.start()
    except FileNotFoundError as exc:
        unavailable(f"a private Redis ({exc})")
    yield server
    server.kill()


async def test_every_path_survives_a_redis_restart_without_a_failed_call(
    private_redis: PrivateRedis,
) -> None:
    """After a restart every pooled connection is dead; each call retries once on a fresh
    one, and scripts the empty Redis no longer knows are loaded again."""
    inbox = Inbox()
    broker = await start_broker(private_redis.url, "a", inbox)
    presence = RedisPresence(broker.client, worker_id="a", ttl_seconds=30)
    limiter = RedisSendLimiter(broker.client, rate=1, burst=3)
    width = 6  # calls at once: as many pooled connections, all opened before the restart
    try:
        await asyncio.gather(*(presence.arrive(room, ADA) for room in range(width)))
        await asyncio.gather(*(limiter.take(user) for user in range(width)))
        private_redis.restart()
        arrivals = await asyncio.gather(*(presence.arrive(room, ADA) for room in range(width)))
        assert arrivals == [True] * width  # the restarted Redis knew nobody
        assert await asyncio.gather(*(limiter.take(user) for user in range(width))) == [0.0] * width
        await asyncio.gather(*(presence.refresh([(room, ADA)], 1) for room in range(width)))
        present = await asyncio.gather(*(presence.present([room]) for room in range(width)))
        assert present == [{room: {ADA.id: ADA}} for room in range(width)]
        envelopes = [Envelope(Kind.FRAME, 5, "{}") for _ in range(width)]
        await asyncio.gather(*(broker.publish([envelope]) for envelope in envelopes))
        # The send limit still limits: the restart gave user 0 a full bucket, of 3.
        assert [await limiter.take(0) for _ in range(2)] == [0.0, 0.0]
        assert await limiter.take(0) > 0
    finally:
        await broker.stop()


async def test_the_send_limit_holds_on_each_worker_while_redis_is_down(
    private_redis: PrivateRedis, caplog: pytest.LogCaptureFixture
) -> None:
    client = Redis.from_url(private_redis.url, socket_connect_timeout=0.5)
    limiter = RedisSendLimiter(client, rate=1, burst=2)
    try:
        assert await limiter.take(7) == 0
        private_redis.kill()
        # Sends go on, still limited, by this worker's own bucket; one warning says so.
        waits = [await limiter.take(7) for _ in range(3)]
        assert waits[:2] == [0, 0] and waits[2] > 0
        warnings = [r for r in caplog.records if "send limit is unreachable" in r.getMessage()]
        assert len(warnings) == 1
        private_redis.start()
        assert await limiter.take(7) == 0  # the shared bucket again (the restart emptied it)
    finally:
        await client.aclose()
