"""idle: N authenticated connections that do nothing; server memory per connection."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bench.loadgen import Recorder, close_all, connect_many, settle
from bench.report import Figure, at_most
from bench.scenarios.common import BASELINE, HUBBUB, Settings, deploy

logger = logging.getLogger(__name__)

WARMUP_CONNECTIONS = 50


@dataclass(frozen=True, slots=True)
class IdleRun:
    connections: int
    rss_before: int
    rss_after: int
    connect_seconds: float

    @property
    def per_connection(self) -> float:
        return (self.rss_after - self.rss_before) / self.connections


async def run_one(kind: str, settings: Settings) -> IdleRun:
    n = settings.idle_connections
    rooms = settings.idle_rooms
    async with deploy(kind, settings, rooms=rooms, members=n // rooms) as deployment:
        urls = deployment.urls()
        # Warm up code paths and caches, then measure from a settled process.
        warm = await connect_many(urls[:WARMUP_CONNECTIONS], Recorder())
        await close_all(warm)
        await asyncio.sleep(1)
        before = deployment.server.rss()
        loop = asyncio.get_running_loop()
        start = loop.time()
        clients = await connect_many(urls, Recorder(), concurrency=100)
        connect_seconds = loop.time() - start
        await settle(quiet=1.0)
        await asyncio.sleep(2)
        after = deployment.server.rss()
        await close_all(clients, within=30)
    run = IdleRun(len(clients), before, after, connect_seconds)
    logger.info("idle %s: %.1f KiB per connection", kind, run.per_connection / 1024)
    return run


async def run(settings: Settings) -> list[Figure]:
    hub = await run_one(HUBBUB, settings)
    base = await run_one(BASELINE, settings)
    s = f"idle ({settings.idle_connections} conns)"
    per = Figure(
        s, "server RSS per connection", hub.per_connection, base.per_connection, "KiB", target="ratio ≤ 1.5"
    )
    per.met = at_most(per.ratio, 1.5)
    return [
        per,
        Figure(
            s,
            "server RSS growth, total",
            hub.rss_after - hub.rss_before,
            base.rss_after - base.rss_before,
            "MiB",
        ),
        Figure(s, "server RSS with all connected", hub.rss_after, base.rss_after, "MiB"),
        Figure(s, "time to connect all (100 at a time)", hub.connect_seconds, base.connect_seconds, "s"),
    ]
