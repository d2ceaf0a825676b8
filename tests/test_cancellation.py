"""Background loops stop on shutdown even when a library swallows their cancellation."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from api.cancellation import stop_if_cancelled
from api.metrics import SharedMetrics


async def swallows_a_cancel() -> None:
    """What redis-py 8.1 was seen doing inside a pipeline: a cancel arrives, the call returns."""
    try:
        await asyncio.sleep(60)
    except asyncio.CancelledError:
        return


async def test_a_loop_that_checks_stops_after_its_call_swallowed_the_cancel() -> None:
    turns = 0

    async def loop() -> None:
        nonlocal turns
        while True:
            turns += 1
            await swallows_a_cancel()
            stop_if_cancelled()

    task = asyncio.create_task(loop())
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.wait_for(asyncio.gather(task, return_exceptions=True), 5)
    assert task.cancelled()
    assert turns == 1


async def test_without_a_cancel_the_check_does_nothing() -> None:
    stop_if_cancelled()
    assert asyncio.current_task() is not None


async def test_sharing_metrics_stops_even_when_publishing_swallows_the_cancel(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    shared = SharedMetrics(redis, worker_id="stopping", interval=0.01, snapshot=lambda: b"[]")
    published = asyncio.Event()

    async def publish() -> None:
        if not published.is_set():  # once: the stop below lands here
            published.set()
            await swallows_a_cancel()

    shared.publish = publish  # type: ignore[method-assign]
    await shared.start()
    await asyncio.wait_for(published.wait(), 5)
    stopping = asyncio.create_task(shared.stop())
    try:
        done, _ = await asyncio.wait({stopping}, timeout=5)
        assert stopping in done, "stop() hung: the loop never saw its cancellation"
    finally:
        stopping.cancel()  # a second cancel, which lands in sleep(), ends a failing run
        await asyncio.gather(stopping, return_exceptions=True)
        await redis.aclose()
