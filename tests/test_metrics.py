"""/metrics: HTTP requests by route template, database pools, and every worker's figures."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis

from api.main import create_app
from api.metrics import Metrics
from tests.conftest import make_settings
from tests.factories import create_room, send, signup
from tests.servers import free_port

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def values(samples: Samples, name: str, **labels: str) -> list[float]:
    wanted = set(labels.items())
    return [value for (n, found), value in samples.items() if n == name and wanted <= found]


def workers_in(samples: Samples) -> set[str]:
    return {dict(labels)["worker"] for (name, labels) in samples if name != "hubbub_workers"}


async def test_requests_are_counted_by_route_template_not_path(client: httpx.AsyncClient) -> None:
    for room_id in ("7", "8", "not-a-number", "%00"):
        await client.get(f"/api/rooms/{room_id}")
    await client.get("/no/such/page")
    await client.get("/also/missing")
    await client.request("BREW", "/healthz")
    samples = await scrape(client)
    rooms = values(
        samples, "hubbub_http_requests_total", method="GET", route="/api/rooms/{room_id}", status="401"
    )
    assert rooms == [4.0]
    assert values(samples, "hubbub_http_requests_total", route="/{path}", status="404") == [2.0]
    assert values(samples, "hubbub_http_requests_total", method="OTHER") == [1.0]  # bounded too
    routes = {dict(labels)["route"] for name, labels in samples if name == "hubbub_http_requests_total"}
    assert not any(re.search(r"/\d", route) or "not-a-number" in route for route in routes)
    count = values(samples, "hubbub_http_request_duration_seconds_count", route="/api/rooms/{room_id}")
    assert count == [4.0]
    [fastest] = values(
        samples, "hubbub_http_request_duration_seconds_bucket", route="/api/rooms/{room_id}", le="+Inf"
    )
    assert fastest == 4.0


async def test_messages_and_the_database_pools_are_reported(client: httpx.AsyncClient) -> None:
    ada = await signup(client, "ada")
    room = await create_room(client, ada)
    await send(client, ada, room["id"], "hello")
    samples = await scrape(client)
    assert values(samples, "hubbub_messages_stored_total") == [1.0]
    for pool in ("read", "write"):
        assert values(samples, "hubbub_db_pool_size", pool=pool)[0] >= 1
        assert len(values(samples, "hubbub_db_connections", pool=pool)) == 2  # in use, idle
    sent = values(samples, "hubbub_http_requests_total", method="POST", route="/api/rooms/{room_id}/messages")
    assert sent == [1.0]


async def test_every_series_names_its_worker(client: httpx.AsyncClient, app: FastAPI) -> None:
    samples = await scrape(client)
    assert workers_in(samples) == {app.state.context.metrics.worker_id}
    assert values(samples, "hubbub_workers") == [1.0]


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hubbub.test") as http,
    ):
        yield http


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "the condition never held"
        await asyncio.sleep(0.05)


async def test_with_redis_each_worker_answers_for_every_worker(
    database_url: str, redis_url: str, tmp_path: Path
) -> None:
    def worker() -> FastAPI:
        settings = make_settings(database_url, tmp_path, broker_url=redis_url, metrics_interval_seconds=0.2)
        return create_app(settings)

    first, second = worker(), worker()
    async with running(first) as a, running(second) as b:
        a_id = first.state.context.metrics.worker_id
        b_id = second.state.context.metrics.worker_id
        for _ in range(3):
            await b.get("/healthz")  # only B moves this counter

        async def a_sees_b() -> bool:
            found = await scrape(a)
            return values(found, "hubbub_http_requests_total", route="/healthz", worker=b_id) == [3.0]

        await eventually(a_sees_b)
        samples = await scrape(a)
        assert workers_in(samples) == {a_id, b_id}
        assert values(samples, "hubbub_workers") == [2.0]
        assert values(samples, "hubbub_http_requests_total", route="/healthz", worker=a_id) == []
        assert len(values(samples, "hubbub_connections")) == 2
    async with running(worker()) as c:
        # The two stopped: their figures left with them.
        samples = await scrape(c)
        assert a_id not in workers_in(samples) and b_id not in workers_in(samples)
        assert values(samples, "hubbub_workers") == [1.0]


async def test_an_unreachable_redis_leaves_the_local_figures(caplog: pytest.LogCaptureFixture) -> None:
    unreachable = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.5)
    metrics = Metrics(worker_id="here")
    metrics.share_through(unreachable, interval=0.05)
    try:
        await metrics.start()
        text = (await metrics.render()).decode()
        await metrics.stop()
    finally:
        await unreachable.aclose()
    assert "hubbub_workers 1.0" in text
    assert 'worker="here"' in text
    assert "reading the other workers' metrics failed" in caplog.text
