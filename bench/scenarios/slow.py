"""slow: the paced fanout, then the same again with one more subscriber that never reads.

The others' p99 with the slow client is compared to the phase before it joined; the
server's RSS is sampled throughout, and so is the server's TCP connection to the slow
client, to tell when the server gave up on it. At the end the slow client reads what
reached it, to see how it was closed.
"""

from __future__ import annotations

import asyncio
import logging
import math
from dataclasses import dataclass

from bench.loadgen import Recorder, Sampler, close_all, connect, perf
from bench.report import Figure, at_most
from bench.scenarios.common import BASELINE, HUBBUB, Settings, deploy
from bench.scenarios.fanout import PacedResult, paced_phase, subscribe, warm_up

logger = logging.getLogger(__name__)

MEMORY_BOUND = 64 * 2**20  # what we call bounded growth: far below an unbounded buffer
READ_BACK_SECONDS = 20.0
PROBE_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class SlowRun:
    without: PacedResult
    with_slow: PacedResult
    others_complete: bool
    closed_after: float  # seconds into the slow phase; NaN when never
    close: str  # how the slow client saw it end
    slow_received: int
    rss_growth: int  # the highest RSS during the slow phase minus RSS as it began
    rss_end_growth: int


async def run_one(kind: str, settings: Settings) -> SlowRun:
    n = settings.fanout_subscribers
    rate = settings.paced_rate
    async with deploy(kind, settings, rooms=1, members=n + 1) as deployment:
        server = deployment.server
        deployment.tokens, slow_token = deployment.tokens[:n], deployment.tokens[n]
        clients = await subscribe(deployment)
        sent = await warm_up(deployment, clients, settings)
        # Whether the server still serves the slow one: Hubbub's connection gauge (it lets a
        # connection go from its room before the socket closes), or else the TCP socket.
        # Probed in both phases, so that its cost is the same in each.
        port = 0

        def socket_open() -> float:
            return float(bool(port) and server.peer_established(port))

        async def hubbub_serves() -> float:
            return float(await server.metric("hubbub_connections") > n)

        probe = Sampler(hubbub_serves if kind == HUBBUB else socket_open, PROBE_SECONDS).start()
        without = await paced_phase(
            deployment, clients, clients[:1], rate=rate, seconds=settings.slow_before_seconds, receivers=n
        )
        slow = await connect(server.ws_url(deployment.room_ids[0], slow_token), Recorder(), small_buffer=True)
        slow.pause_reading()
        port = slow.local_port
        await asyncio.sleep(1)
        rss_start = server.rss()
        memory = Sampler(server.rss, 0.25).start()
        start = perf()
        with_slow = await paced_phase(
            deployment, clients, clients[:1], rate=rate, seconds=settings.slow_seconds, receivers=n
        )
        rss_samples = await memory.stop()
        open_samples = await probe.stop()
        total = sent + without.sent + with_slow.sent
        others_complete = all(client.received_all(total) for client in clients)
        if not others_complete:
            logger.warning(
                "slow %s: %d subscribers incomplete (%d with gaps, %d reordered); %d receipts missing",
                kind,
                sum(not c.received_all(total) for c in clients),
                sum(bool(c.gaps) for c in clients),
                sum(bool(c.disorder) for c in clients),
                without.missing + with_slow.missing,
            )
        closed_after = next((t - start for t, up in open_samples if t > start and not up), math.nan)
        slow.resume_reading()
        await asyncio.wait([slow.closed], timeout=READ_BACK_SECONDS)
        close = f"{slow.close_code} {slow.close_reason}".strip() if slow.close_code else "still open"
        if slow.closed.done() and slow.close_code is None:
            close = "dropped without a close frame"
        slow_received = slow.messages
        await close_all([*clients, slow])
    run = SlowRun(
        without,
        with_slow,
        others_complete,
        closed_after,
        close,
        slow_received,
        int(max(v for _, v in rss_samples) - rss_start),
        int(rss_samples[-1][1] - rss_start),
    )
    logger.info(
        "slow %s: p99 %.2f → %.2f ms; closed after %.1f s (%s)",
        kind,
        without.latency.p99 * 1e3,
        with_slow.latency.p99 * 1e3,
        closed_after,
        close,
    )
    return run


async def run(settings: Settings) -> list[Figure]:
    hub = await run_one(HUBBUB, settings)
    base = await run_one(BASELINE, settings)
    s = f"slow ({settings.fanout_subscribers} subs + 1 stalled, {settings.paced_rate:.0f} msg/s)"
    hub_ratio = hub.with_slow.latency.p99 / hub.without.latency.p99
    base_ratio = base.with_slow.latency.p99 / base.without.latency.p99
    p99 = Figure(s, "others' p99 with / without the slow one", hub_ratio, base_ratio, "x", target="≤ 1.2")
    p99.ratio = None  # a ratio within each server's own run, shown in its columns
    p99.met = at_most(hub_ratio, 1.2)
    complete = Figure(
        s, "the others received everything, in order", hub.others_complete, base.others_complete
    )
    complete.target, complete.met = "yes", hub.others_complete
    growth = Figure(s, "server RSS growth, highest", hub.rss_growth, base.rss_growth, "MiB")
    growth.target = f"bounded: slow one closed, < {MEMORY_BOUND >> 20} MiB"
    growth.met = hub.rss_growth < MEMORY_BOUND and not math.isnan(hub.closed_after)
    return [
        Figure(
            s, "others' p99 without the slow one", hub.without.latency.p99, base.without.latency.p99, "ms"
        ),
        Figure(
            s, "others' p99 with the slow one", hub.with_slow.latency.p99, base.with_slow.latency.p99, "ms"
        ),
        p99,
        complete,
        Figure(s, "server let the slow one go after", hub.closed_after, base.closed_after, "s"),
        Figure(s, "how the slow one saw the end", hub.close, base.close),
        Figure(s, "messages the slow one got", hub.slow_received, base.slow_received),
        growth,
        Figure(s, "server RSS growth at the end", hub.rss_end_growth, base.rss_end_growth, "MiB"),
    ]
