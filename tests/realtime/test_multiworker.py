"""Two worker processes sharing a database and a Redis: one server to their clients.

The Redis here is a private server on its own port, so the test can kill it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.factories import Account, create_room, join, send, signup
from tests.realtime.client import Client, joined
from tests.servers import PrivateRedis, ServerProcess, server_processes

pytestmark = pytest.mark.multiworker


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.kill()


@pytest.fixture
def worker_env(database_url: str, private_redis: PrivateRedis, tmp_path: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "BROKER_URL": private_redis.url,
        "SECRET_KEY": "multiworker-" + "k" * 40,
        "DATA_DIR": str(tmp_path / "var"),
        "PASSWORD_MEMORY_KIB": "64",
        "PASSWORD_TIME_COST": "1",
        "SEND_RATE": "0",
        "LOG_LEVEL": "WARNING",
        "GAP_FILL_SECONDS": "0.3",
    }


@pytest.fixture
def workers(worker_env: dict[str, str], tmp_path: Path) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    first = ServerProcess(worker_env, log=tmp_path / "worker-a.log")
    second = ServerProcess(worker_env, log=tmp_path / "worker-b.log")
    for worker in (first, second):
        worker.start()
    yield first, second
    for worker in (first, second):
        worker.stop()


@contextlib.asynccontextmanager
async def http_to(worker: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=worker.http_url, timeout=10) as http:
        yield http


async def setup_room(worker: ServerProcess, count: int) -> tuple[int, list[Account]]:
    async with http_to(worker) as http:
        people = [await signup(http, f"person{index}") for index in range(count)]
        room_id = (await create_room(http, people[0]))["id"]
        for person in people[1:]:
            await join(http, person, room_id)
    return room_id, people


async def test_clients_on_two_workers_are_one_room(workers: tuple[ServerProcess, ServerProcess]) -> None:
    a, b = workers
    room_id, people = await setup_room(a, 4)
    async with contextlib.AsyncExitStack() as stack:
        clients: list[Client] = []
        for index, person in enumerate(people):
            clients.append(await stack.enter_async_context(joined(b if index % 2 else a, person, room_id)))  # type: ignore[arg-type]
        # Presence counts both workers' connections.
        last = clients[-1]
        assert last.presence is not None
        assert sorted(u["id"] for u in last.presence["users"]) == sorted(p.id for p in people)

        async def talk(client: Client, name: str) -> None:
            for index in range(25):
                await client.say(f"{name} {index}")

        receivers = [asyncio.create_task(client.messages(100, timeout=30)) for client in clients]
        await asyncio.gather(*(talk(c, p.username) for c, p in zip(clients, people, strict=True)))
        for received in await asyncio.gather(*receivers):
            assert [m["seq"] for m in received] == list(range(1, 101))


async def test_a_redis_outage_loses_nothing_and_duplicates_nothing(
    workers: tuple[ServerProcess, ServerProcess], private_redis: PrivateRedis
) -> None:
    a, b = workers
    room_id, (ada, bob) = await setup_room(a, 2)
    async with joined(b, bob, room_id) as on_b, http_to(a) as http_a, http_to(b) as http_b:  # type: ignore[arg-type]
        await send(http_a, ada, room_id, "before")
        assert [m["seq"] for m in await on_b.messages(1)] == [1]
        private_redis.kill()
        await asyncio.sleep(0.5)
        assert (await http_b.get("/readyz")).status_code == 503
        for index in range(5):
            await send(http_a, ada, room_id, f"during {index}")  # stored on A; B cannot hear it yet
        private_redis.start()
        deadline = time.monotonic() + 15
        while (await http_b.get("/readyz")).status_code != 200:
            assert time.monotonic() < deadline, "worker B never reconnected"
            await asyncio.sleep(0.2)
        await send(http_a, ada, room_id, "after")
        received = [m["seq"] for m in await on_b.messages(6, timeout=15)]
        assert received == [2, 3, 4, 5, 6, 7]
        await on_b.expect_silence(0.5)


async def test_an_acknowledged_message_survives_sigkill(workers: tuple[ServerProcess, ServerProcess]) -> None:
    a, _ = workers
    room_id, (ada,) = await setup_room(a, 1)
    async with joined(a, ada, room_id) as client:  # type: ignore[arg-type]
        await client.say("durable", nonce="d1")
        echoed = (await client.recv_type("message"))["message"]
        a.kill()
    a.start()
    async with http_to(a) as http:
        page = (await http.get(f"/api/rooms/{room_id}/messages", headers=ada.headers)).json()
    assert [(m["seq"], m["body"]) for m in page["messages"]] == [(echoed["seq"], "durable")]


async def test_closes_and_presence_reach_every_worker(workers: tuple[ServerProcess, ServerProcess]) -> None:
    a, b = workers
    room_id, (ada, bob, cyd) = await setup_room(a, 3)
    async with http_to(a) as http:
        root = await signup(http, "rootadmin")
    await _make_admin(a, root)
    async with joined(a, ada, room_id) as watcher:  # type: ignore[arg-type]
        # bob has a tab on each worker: one presence, one join.
        async with joined(a, bob, room_id), joined(b, bob, room_id) as bob_b:  # type: ignore[arg-type]
            assert (await watcher.recv_type("join"))["user"]["id"] == bob.id
            async with joined(b, cyd, room_id) as cyd_b, http_to(a) as http:  # type: ignore[arg-type]
                await watcher.recv_type("join")
                kicked = await http.delete(f"/api/rooms/{room_id}/members/{cyd.id}", headers=ada.headers)
                assert kicked.status_code == 204
                assert await cyd_b.closed() == (1008, "removed")
                off = await http.patch(
                    f"/api/admin/users/{bob.id}", json={"is_active": False}, headers=root.headers
                )
                assert off.status_code == 200
                assert await bob_b.closed() == (1008, "account_disabled")
        leaves = {(await watcher.recv_type("leave", timeout=10))["user"]["id"] for _ in range(2)}
        assert leaves == {bob.id, cyd.id}


async def _make_admin(worker: ServerProcess, account: Account) -> None:
    engine = create_async_engine(worker.env["DATABASE_URL"])
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text("UPDATE users SET is_admin = true WHERE id = :id"), {"id": account.id}
            )
    finally:
        await engine.dispose()


def _by_worker(metrics: str, name: str) -> dict[str, float]:
    return {
        sample.labels["worker"]: sample.value
        for family in text_string_to_metric_families(metrics)
        for sample in family.samples
        if sample.name == name
    }


async def test_metrics_on_one_worker_count_the_other(worker_env: dict[str, str], tmp_path: Path) -> None:
    env = {**worker_env, "METRICS_INTERVAL_SECONDS": "0.3"}
    a = ServerProcess(env, log=tmp_path / "metrics-a.log")
    b = ServerProcess(env, log=tmp_path / "metrics-b.log")
    with server_processes(a, b):
        room_id, (ada,) = await setup_room(a, 1)
        async with http_to(b) as http_b:
            for index in range(3):
                await send(http_b, ada, room_id, f"through b {index}")  # stored by B's writer only
        async with http_to(a) as http_a:
            deadline = time.monotonic() + 15
            while True:
                stored = _by_worker((await http_a.get("/metrics")).text, "hubbub_messages_stored_total")
                if sorted(stored.values()) == [0.0, 3.0]:
                    break
                assert time.monotonic() < deadline, f"A never saw B's figures: {stored}"
                await asyncio.sleep(0.1)
            [b_id] = [worker for worker, count in stored.items() if count == 3.0]
            metrics = (await http_a.get("/metrics")).text
            sent = _by_worker(metrics, "hubbub_http_requests_total")
            assert b_id in sent  # labelled by route template, per worker
            assert 'route="/api/rooms/{room_id}/messages"' in metrics
            assert "\nhubbub_workers 2.0\n" in metrics
            b.kill()  # no goodbye: its figures must expire on their own
            deadline = time.monotonic() + 15
            while b_id in _by_worker((await http_a.get("/metrics")).text, "hubbub_connections"):
                assert time.monotonic() < deadline, "a dead worker's figures never vanished"
                await asyncio.sleep(0.1)
            assert "\nhubbub_workers 1.0\n" in (await http_a.get("/metrics")).text
