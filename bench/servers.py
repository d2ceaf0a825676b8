"""Start and stop the servers under test, pinned to their own core, and read their CPU and memory."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import psutil

from bench.setup_db import REPO_ROOT

logger = logging.getLogger(__name__)

SERVER_CPU = "0"
READY_TIMEOUT = 60.0
# How to run the `hubbub` CLI; an experiment may point it at a wrapper.
HUBBUB_COMMAND = [sys.executable, "-m", "api.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _open_log(path: Path) -> IO[bytes]:
    return path.open("ab")


@dataclass
class Server:
    """One running server process (Hubbub or the baseline)."""

    name: str
    port: int
    process: asyncio.subprocess.Process
    log_path: Path
    secret: str = ""
    database_url: str = ""
    ps: psutil.Process = field(init=False)

    def __post_init__(self) -> None:
        self.ps = psutil.Process(self.process.pid)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ws_url(self, room_id: int, token: str, since: int | None = None) -> str:
        url = f"ws://127.0.0.1:{self.port}/ws/rooms/{room_id}?token={token}"
        return url if since is None else f"{url}&since={since}"

    def multi_url(self, token: str) -> str:
        """`/ws`: one connection for every room."""
        return f"ws://127.0.0.1:{self.port}/ws?token={token}"

    def rss(self) -> int:
        return int(self.ps.memory_info().rss)

    def cpu_seconds(self) -> float:
        times = self.ps.cpu_times()
        return float(times.user + times.system)

    def peer_established(self, client_port: int) -> bool:
        """Whether the server still holds an open TCP connection to our local `client_port`."""
        for conn in self.ps.net_connections(kind="tcp"):
            if conn.raddr and conn.raddr.port == client_port:
                return bool(conn.status == psutil.CONN_ESTABLISHED)
        return False

    async def metric(self, name: str) -> float:
        """One figure from Hubbub's Prometheus `/metrics`, summed over its series (each worker
        has its own, labelled `worker`); NaN when absent."""
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            writer.write(b"GET /metrics HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            body = await reader.read()
        finally:
            writer.close()
        values = [
            float(line.rsplit(b" ", 1)[1])
            for line in body.splitlines()
            if line.startswith((name.encode() + b" ", name.encode() + b"{"))
        ]
        return sum(values) if values else float("nan")

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 15)
            except TimeoutError:
                logger.warning("%s did not stop in time; killing it", self.name)
                self.process.kill()
                await self.process.wait()


async def _wait_ready(server: Server, path: str | None) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.returncode is not None:
            raise RuntimeError(
                f"{server.name} exited with {server.process.returncode}; see {server.log_path}"
            )
        with contextlib.suppress(OSError):
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            try:
                if path is None:
                    return
                writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode())
                status = await reader.readline()
                if b" 200 " in status:
                    return
            finally:
                writer.close()
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{server.name} was not ready within {READY_TIMEOUT} s; see {server.log_path}")


async def _spawn(
    name: str, args: list[str], env: dict[str, str], log_path: Path
) -> asyncio.subprocess.Process:
    log = _open_log(log_path)
    try:
        return await asyncio.create_subprocess_exec(
            "taskset", "-c", SERVER_CPU, *args, cwd=REPO_ROOT, env=env, stdout=log, stderr=log
        )
    finally:
        log.close()


async def start_hubbub(
    *, database_url: str, secret: str, workdir: Path, extra_env: dict[str, str] | None = None
) -> Server:
    """`hubbub serve` on a fresh port, one worker, pinned to the server core."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": secret,
        "BROKER_URL": "memory://",
        "SEND_RATE": "0",
        "LOG_LEVEL": "WARNING",
        "DATA_DIR": str(workdir),
        **(extra_env or {}),
    }
    log_path = workdir / f"hubbub-{port}.log"
    args = [*HUBBUB_COMMAND, "serve", "--host", "127.0.0.1", "--port", str(port)]
    process = await _spawn("hubbub", args, env, log_path)
    server = Server("hubbub", port, process, log_path, secret=secret, database_url=database_url)
    await _wait_ready(server, "/healthz")
    logger.info("hubbub is up on port %d (pid %d, %s)", port, server.pid, database_url)
    return server


async def start_baseline(*, workdir: Path, verbatim: bool = False) -> Server:
    port = free_port()
    log_path = workdir / f"baseline-{port}.log"
    args = [sys.executable, "-m", "bench.baseline_server", "--port", str(port), *(["--verbatim"] * verbatim)]
    process = await _spawn("baseline", args, dict(os.environ), log_path)
    server = Server("baseline", port, process, log_path)
    await _wait_ready(server, None)
    logger.info("baseline is up on port %d (pid %d)", port, server.pid)
    return server
