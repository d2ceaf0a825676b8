"""What the outermost middleware (api/edge.py: request id, security headers, HTTP metrics)
costs one HTTP request, against the same app without it, in the same run.

    .venv/bin/python -m bench.edge [--requests 20000]

Requests are ASGI calls made in-process (no sockets, no server), so the figures are the
app's own cost per request; both variants take turns in rounds to share any noise.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from api.config import Settings
from api.edge import Edge
from api.main import create_app
from api.migrate import upgrade

Asgi = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
ROUNDS = 20


def scope(path: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"bench"), (b"accept", b"*/*"), (b"user-agent", b"bench")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }


async def per_request(app: FastAPI, asgi: Asgi, path: str, count: int) -> float:
    """Microseconds per request through `asgi`."""

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        pass

    started = time.perf_counter()
    for _ in range(count):
        request = scope(path)
        request["app"] = app
        await asgi(request, receive, send)
    return (time.perf_counter() - started) / count * 1e6


async def main(count: int) -> None:
    directory = Path(tempfile.mkdtemp(prefix="bench-edge-"))
    url = f"sqlite+aiosqlite:///{directory / 'bench.db'}"
    await asyncio.to_thread(upgrade, url)
    settings = Settings(database_url=url, data_dir=directory, secret_key="bench-" + "x" * 40)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        with_edge = app.build_middleware_stack()
        without_edge = FastAPI.build_middleware_stack(app)  # the same stack, minus the Edge
        for path in ("/healthz", "/api/rooms/1"):
            results: dict[str, list[float]] = {"with": [], "without": []}
            await per_request(app, with_edge, path, 500)  # warm up
            for _ in range(ROUNDS):
                results["without"].append(await per_request(app, without_edge, path, count // ROUNDS))
                results["with"].append(await per_request(app, with_edge, path, count // ROUNDS))
            base = statistics.median(results["without"])
            edge = statistics.median(results["with"])
            report(f"GET {path}", base, edge)
        # The edge alone, around an app that answers at once: its own cost, free of the app's noise.
        bare = _answer_at_once
        edged = Edge(bare)
        results = {"with": [], "without": []}
        for _ in range(ROUNDS):
            results["without"].append(await per_request(app, bare, "/healthz", count // ROUNDS))
            results["with"].append(await per_request(app, edged, "/healthz", count // ROUNDS))
        report("a bare ASGI app", statistics.median(results["without"]), statistics.median(results["with"]))


async def _answer_at_once(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def report(what: str, base: float, edge: float) -> None:
    sys.stdout.write(
        f"{what:20} without the edge {base:7.1f} µs/request, with it {edge:7.1f} "
        f"(+{edge - base:.1f} µs, {edge / base:.3f}×)\n"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    asyncio.run(main(parser.parse_args().requests))
