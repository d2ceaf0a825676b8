"""A graceful stop is graceful: on SIGTERM `hubbub serve` closes every WebSocket with 1012
`server_restart` and exits 0, with one worker or several; a stop that failed, and a signal
that came before the server ran, still end the process by the signal."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.factories import create_room, signup
from tests.realtime.client import Client, room_path, ws_path
from tests.realtime.test_multiworker import private_redis  # noqa: F401 (a fixture)
from tests.servers import ROOT, PrivateRedis, ServerProcess, free_port


def serve_env(database_url: str, tmp_path: Path, **more: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "DATA_DIR": str(tmp_path / "var"),
        "SECRET_KEY": "serving-" + "k" * 40,
        "PASSWORD_MEMORY_KIB": "64",
        "PASSWORD_TIME_COST": "1",
        "LOG_LEVEL": "WARNING",
        "SHUTDOWN_GRACE_SECONDS": "2",
        **more,
    }


@contextlib.asynccontextmanager
async def two_clients(server: ServerProcess) -> AsyncIterator[list[Client]]:
    """A /ws connection and a room socket, both past their first frames."""
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        ada = await signup(http)
        room_id = (await create_room(http, ada))["id"]
    async with (
        connect(server.ws_url(ws_path(ada.token))) as multiplexed,
        connect(server.ws_url(room_path(room_id, ada.token))) as room_socket,
    ):
        clients = [Client(multiplexed), Client(room_socket)]
        await clients[0].recv_type("ready")
        await clients[1].recv_type("presence")
        yield clients


async def stopped(server: ServerProcess, clients: list[Client]) -> tuple[int | None, list[object]]:
    assert server.process is not None
    server.process.send_signal(signal.SIGTERM)
    closes = [await client.closed(timeout=15) for client in clients]
    return server.process.wait(15), closes


async def test_sigterm_closes_with_server_restart_and_exits_0(database_url: str, tmp_path: Path) -> None:
    server = ServerProcess(serve_env(database_url, tmp_path), log=tmp_path / "serve.log")
    server.start()
    try:
        async with two_clients(server) as clients:
            status, closes = await stopped(server, clients)
    finally:
        server.kill()
    assert closes == [(1012, "server_restart")] * 2
    assert status == 0, (tmp_path / "serve.log").read_text()


@pytest.mark.multiworker
async def test_several_workers_stop_the_same_way(
    database_url: str,
    tmp_path: Path,
    private_redis: PrivateRedis,  # noqa: F811
) -> None:
    env = serve_env(database_url, tmp_path, BROKER_URL=private_redis.url)
    server = ServerProcess(env, log=tmp_path / "serve.log", args=["--workers", "2"])
    server.start()
    try:
        async with two_clients(server) as clients:
            status, closes = await stopped(server, clients)
    finally:
        server.kill()
    assert closes == [(1012, "server_restart")] * 2
    assert status == 0, (tmp_path / "serve.log").read_text()


# A server with a lifespan of its own, run as `hubbub serve` runs one: its shutdown succeeds
# or fails as told, or the process stops itself before the server runs.
SERVER = """
import os, signal, sys
import uvicorn
from api.serving import GracefulServer

mode, port = sys.argv[1], int(sys.argv[2])

async def app(scope, receive, send):
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"up"})
        return
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        else:
            failed = mode == "failing"
            await send({"type": "lifespan.shutdown." + ("failed" if failed else "complete"), "message": ""})
            return

if mode == "early":
    os.kill(os.getpid(), signal.SIGTERM)
GracefulServer(uvicorn.Config(app, port=port, log_level="critical")).run()
"""


@pytest.mark.parametrize(
    ("mode", "status"), [("clean", 0), ("failing", -signal.SIGTERM), ("early", -signal.SIGTERM)]
)
def test_only_a_clean_stop_exits_0(mode: str, status: int) -> None:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-c", SERVER, mode, str(port)], cwd=ROOT)
    try:
        if mode != "early":
            deadline = time.monotonic() + 30
            while True:
                assert process.poll() is None, "the server stopped while starting"
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200:
                        break
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.05)
            process.send_signal(signal.SIGTERM)
        assert process.wait(15) == status
    finally:
        process.kill()
        process.wait(10)
