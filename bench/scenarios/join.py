"""join: a client connects with `since` 1000 messages back; the time from opening the TCP
connection to the last replayed message (Hubbub replays them all in the `history` frame).

The baseline's figure is a single round trip: connecting to it and receiving its first frame.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bench.loadgen import Recorder, close_all, connect, perf
from bench.report import Figure, at_most
from bench.scenarios.common import BASELINE, HUBBUB, Deployment, Settings, deploy
from bench.stats import Summary

logger = logging.getLogger(__name__)

EXTRA_HISTORY = 500  # older messages that must not be replayed
PINGS = 50


@dataclass(frozen=True, slots=True)
class JoinRun:
    join: Summary
    replayed: int
    newest: Summary  # joining without `since`
    ping: Summary  # a round trip on an open connection


async def _joins(deployment: Deployment, since: int | None, repeats: int) -> tuple[Summary, int]:
    url = deployment.server.ws_url(deployment.room_ids[0], deployment.tokens[0], since)
    times = []
    replayed = 0
    for _ in range(repeats):
        start = perf()
        client = await connect(url, Recorder())
        times.append(await client.ready - start)
        replayed = client.history_messages
        await close_all([client])
    return Summary.of(times), replayed


async def _pings(deployment: Deployment) -> Summary:
    client = await connect(deployment.urls()[0], Recorder())
    times = [await client.ping() for _ in range(PINGS)]
    await close_all([client])
    return Summary.of(times)


async def run_one(kind: str, settings: Settings) -> JoinRun:
    replay = settings.join_replay
    history = replay + EXTRA_HISTORY if kind == HUBBUB else 0
    async with deploy(kind, settings, rooms=1, members=1, history=history) as deployment:
        await _joins(deployment, None, 3)  # warm-up
        since = EXTRA_HISTORY if kind == HUBBUB else None
        join, replayed = await _joins(deployment, since, settings.join_repeats)
        newest, _ = await _joins(deployment, None, settings.join_repeats)
        ping = await _pings(deployment)
    if kind == HUBBUB and replayed != replay:
        logger.warning("join: %d messages replayed, %d expected", replayed, replay)
    logger.info("join %s: median %.2f ms (%d replayed)", kind, join.p50 * 1e3, replayed)
    return JoinRun(join, replayed, newest, ping)


async def run(settings: Settings) -> list[Figure]:
    hub = await run_one(HUBBUB, settings)
    base = await run_one(BASELINE, settings)
    s = f"join (since = {settings.join_replay} back)"
    median = Figure(
        s,
        f"connect → last replayed frame, median ({hub.replayed} replayed)",
        hub.join.p50,
        base.join.p50,
        "ms",
        target="ratio < 10",
        note="baseline: connect → first frame",
    )
    median.met = at_most(median.ratio, 10.0 - 1e-9)
    return [
        median,
        Figure(s, "connect → last replayed frame, p95", hub.join.p95, base.join.p95, "ms"),
        Figure(s, "connect → history of the newest 50, median", hub.newest.p50, base.newest.p50, "ms"),
        Figure(s, "ping → pong on an open connection, median", hub.ping.p50, base.ping.p50, "ms"),
    ]
