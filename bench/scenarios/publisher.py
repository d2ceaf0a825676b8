"""publisher: one room, one publisher on one connection with at most 16 messages in flight
(how a bot or a busy single client sends), as the outside measurement did, against the
baseline relaying each frame verbatim with `broadcast()`.

A paced phase (20 messages/s) gives latency from send to receipt; a saturated phase, the
publisher keeping 16 messages in flight (sent and not yet received by every subscriber),
gives deliveries per second. Hubbub must also have stored every message.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bench import setup_db
from bench.loadgen import Client, CpuMeter, CpuUse, Recorder, close_all, saturate, use_recorder
from bench.report import Figure, at_least, at_most
from bench.scenarios.common import HUBBUB, RELAY, Deployment, Settings, deploy
from bench.scenarios.fanout import DRAIN_SECONDS, PacedResult, paced_phase, subscribe

logger = logging.getLogger(__name__)

# The frame cap would otherwise throttle the one publisher, as in the outside measurement.
UNCAPPED = {"WS_FRAMES_PER_SECOND": "1000000"}


@dataclass(frozen=True, slots=True)
class PublisherRun:
    paced: PacedResult
    deliveries_per_second: float
    messages_per_second: float
    sent: int
    complete: bool
    stored: int | None
    cpu: CpuUse


async def saturated(
    deployment: Deployment, clients: list[Client], settings: Settings
) -> tuple[float, float, int, bool, CpuUse]:
    recorder = Recorder(record_latency=False)
    use_recorder(clients, recorder)
    meter = CpuMeter(deployment.server.cpu_seconds, deployment.server.pid)
    await saturate(
        clients[:1],
        recorder,
        duration=settings.publisher_seconds,
        window=settings.publisher_window,
        receivers=len(clients),
        per_connection_rate=1_000_000,
    )
    complete = await recorder.drain(DRAIN_SECONDS)
    cpu = meter.read()
    elapsed = max(recorder.last_receipt - recorder.first_send, 1e-9)
    return recorder.deliveries / elapsed, recorder.completed / elapsed, recorder.sent, complete, cpu


async def run_one(kind: str, settings: Settings, subscribers: int) -> PublisherRun:
    extra = UNCAPPED if kind == HUBBUB else None
    async with deploy(kind, settings, rooms=1, members=subscribers, extra_env=extra) as deployment:
        clients = await subscribe(deployment)
        clients[0].numbered = kind == RELAY
        paced_result = await paced_phase(
            deployment,
            clients,
            clients[:1],
            rate=settings.paced_rate,
            seconds=settings.paced_seconds,
            receivers=subscribers,
        )
        per_second, messages, sent, complete, cpu = await saturated(deployment, clients, settings)
        stored = None
        if deployment.database is not None:
            stored = await setup_db.count_messages(deployment.database.url)
        await close_all(clients)
    logger.info(
        "%s publisher (%d subs): %.0f deliveries/s, %s",
        kind,
        subscribers,
        per_second,
        paced_result.latency.ms(),
    )
    return PublisherRun(paced_result, per_second, messages, paced_result.sent + sent, complete, stored, cpu)


async def run(settings: Settings) -> list[Figure]:
    figures: list[Figure] = []
    for subscribers in settings.publisher_subscribers:
        hub = await run_one(HUBBUB, settings, subscribers)
        relay = await run_one(RELAY, settings, subscribers)
        figures += _figures(hub, relay, subscribers, settings)
    return figures


def _figures(hub: PublisherRun, relay: PublisherRun, subscribers: int, settings: Settings) -> list[Figure]:
    s = f"publisher (1 sender, window {settings.publisher_window}, {subscribers} subs)"
    goal = 0.5 if subscribers <= 100 else 1.0
    throughput = Figure(
        s,
        "deliveries/s, saturated",
        hub.deliveries_per_second,
        relay.deliveries_per_second,
        "/s",
        target=f"ratio ≥ {goal}",
    )
    throughput.met = at_least(throughput.ratio, goal)
    p99 = Figure(
        s,
        f"paced p99 ({settings.paced_rate:.0f} msg/s)",
        hub.paced.latency.p99,
        relay.paced.latency.p99,
        "ms",
        target="ratio ≤ 1.5",
    )
    p99.met = at_most(p99.ratio, 1.5)
    persisted = Figure(
        s,
        "every message persisted and delivered",
        hub.stored == hub.sent and hub.complete and hub.paced.complete,
        relay.complete and relay.paced.complete,
        target="yes",
    )
    persisted.met = bool(persisted.hubbub)
    return [
        throughput,
        Figure(s, "messages/s, saturated", hub.messages_per_second, relay.messages_per_second, "/s"),
        Figure(s, "server CPU, saturated", hub.cpu.server, relay.cpu.server, "%"),
        Figure(s, "loadgen CPU, saturated", hub.cpu.loadgen, relay.cpu.loadgen, "%"),
        Figure(s, "paced p50", hub.paced.latency.p50, relay.paced.latency.p50, "ms"),
        p99,
        persisted,
    ]
