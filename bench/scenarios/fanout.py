"""fanout: one room, N subscribers. A paced phase (one sender, 20 messages/s) for latency
from send to receipt, then a saturating phase for deliveries per second."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from bench.loadgen import (
    Client,
    CpuMeter,
    CpuUse,
    Recorder,
    close_all,
    connect_many,
    paced,
    saturate,
    settle,
    use_recorder,
)
from bench.report import Figure, at_least, at_most
from bench.scenarios.common import BASELINE, HUBBUB, Deployment, Settings, deploy
from bench.stats import Summary

logger = logging.getLogger(__name__)

DRAIN_SECONDS = 10.0  # with no receipt at all: the rest is lost
WARMUP_SECONDS = 2.0
LOADGEN_BOUND = 90.0  # percent of its core: above it, the load generator may be what limits


@dataclass(frozen=True, slots=True)
class PacedResult:
    latency: Summary
    sent: int
    complete: bool
    missing: int
    cpu: CpuUse


@dataclass(frozen=True, slots=True)
class SaturateResult:
    deliveries_per_second: float
    messages_per_second: float
    sent: int
    complete: bool
    cpu: CpuUse


async def paced_phase(
    deployment: Deployment,
    clients: Sequence[Client],
    senders: Sequence[Client],
    *,
    rate: float,
    seconds: float,
    receivers: int,
) -> PacedResult:
    recorder = Recorder()
    use_recorder(clients, recorder)
    meter = CpuMeter(deployment.server.cpu_seconds, deployment.server.pid)
    await paced(senders, recorder, rate=rate, duration=seconds, receivers=receivers)
    complete = await recorder.drain(DRAIN_SECONDS)
    return PacedResult(
        Summary.of(recorder.latencies), recorder.sent, complete, recorder.missing, meter.read()
    )


async def saturate_phase(
    deployment: Deployment, clients: Sequence[Client], settings: Settings, *, receivers: int
) -> SaturateResult:
    recorder = Recorder(record_latency=False)
    use_recorder(clients, recorder)
    meter = CpuMeter(deployment.server.cpu_seconds, deployment.server.pid)
    await saturate(
        clients[: settings.saturate_senders],
        recorder,
        duration=settings.saturate_seconds,
        window=settings.saturate_window,
        receivers=receivers,
        per_connection_rate=settings.sender_rate,
    )
    complete = await recorder.drain(DRAIN_SECONDS)
    cpu = meter.read()
    elapsed = max(recorder.last_receipt - recorder.first_send, 1e-9)
    return SaturateResult(
        recorder.deliveries / elapsed, recorder.completed / elapsed, recorder.sent, complete, cpu
    )


@dataclass(frozen=True, slots=True)
class FanoutRun:
    paced: PacedResult
    saturated: SaturateResult
    in_order: bool


async def subscribe(deployment: Deployment) -> list[Client]:
    clients = await connect_many(deployment.urls(), Recorder())
    await settle()
    return clients


async def warm_up(deployment: Deployment, clients: Sequence[Client], settings: Settings) -> int:
    """Messages nobody measures, so the first measured ones do not pay for cold caches."""
    result = await paced_phase(
        deployment,
        clients,
        clients[:1],
        rate=settings.paced_rate,
        seconds=WARMUP_SECONDS,
        receivers=len(clients),
    )
    return result.sent


async def run_one(kind: str, settings: Settings) -> FanoutRun:
    n = settings.fanout_subscribers
    async with deploy(kind, settings, rooms=1, members=n) as deployment:
        clients = await subscribe(deployment)
        sent = await warm_up(deployment, clients, settings)
        paced_result = await paced_phase(
            deployment,
            clients,
            clients[:1],
            rate=settings.paced_rate,
            seconds=settings.paced_seconds,
            receivers=n,
        )
        saturated = await saturate_phase(deployment, clients, settings, receivers=n)
        total = sent + paced_result.sent + saturated.sent  # the room's last seq: it started empty
        in_order = all(client.received_all(total) for client in clients)
        bad = sum(not client.received_all(total) for client in clients)
        if bad:
            logger.warning("%s fanout: %d of %d subscribers missed or reordered messages", kind, bad, n)
        await close_all(clients)
    logger.info(
        "%s fanout: paced %s; %.0f deliveries/s",
        kind,
        paced_result.latency.ms(),
        saturated.deliveries_per_second,
    )
    return FanoutRun(paced_result, saturated, in_order)


async def run(settings: Settings) -> list[Figure]:
    hub = await run_one(HUBBUB, settings)
    base = await run_one(BASELINE, settings)
    return figures(hub, base, settings)


def figures(hub: FanoutRun, base: FanoutRun, settings: Settings) -> list[Figure]:
    s = f"fanout ({settings.fanout_subscribers} subs)"
    throughput = Figure(
        s,
        f"deliveries/s, saturated ({settings.saturate_senders} senders, window {settings.saturate_window})",
        hub.saturated.deliveries_per_second,
        base.saturated.deliveries_per_second,
        "/s",
        target="ratio ≥ 1.0",
    )
    throughput.met = at_least(throughput.ratio, 1.0)
    bound = [
        name
        for name, run in (("Hubbub", hub), ("baseline", base))
        if run.saturated.cpu.loadgen >= LOADGEN_BOUND
    ]
    if bound:
        throughput.note = (
            f"load generator ≥ {LOADGEN_BOUND:.0f} % CPU for {' and '.join(bound)}: a lower bound"
        )
    p99 = Figure(
        s,
        f"paced p99 ({settings.paced_rate:.0f} msg/s)",
        hub.paced.latency.p99,
        base.paced.latency.p99,
        "ms",
        target="ratio ≤ 1.5",
    )
    p99.met = at_most(p99.ratio, 1.5)
    complete = Figure(
        s,
        "every subscriber got every message, in seq order",
        hub.in_order and hub.paced.complete,
        base.in_order and base.paced.complete,
        target="yes",
    )
    complete.met = bool(complete.hubbub)
    return [
        throughput,
        Figure(
            s,
            "messages/s, saturated",
            hub.saturated.messages_per_second,
            base.saturated.messages_per_second,
            "/s",
        ),
        Figure(s, "server CPU, saturated", hub.saturated.cpu.server, base.saturated.cpu.server, "%"),
        Figure(s, "loadgen CPU, saturated", hub.saturated.cpu.loadgen, base.saturated.cpu.loadgen, "%"),
        Figure(
            s,
            "server starved, saturated",
            hub.saturated.cpu.server_starved,
            base.saturated.cpu.server_starved,
            "%",
            note="event loop runnable, core taken by other processes",
        ),
        Figure(s, "paced p50", hub.paced.latency.p50, base.paced.latency.p50, "ms"),
        p99,
        Figure(s, "paced max", hub.paced.latency.max, base.paced.latency.max, "ms"),
        Figure(s, "server CPU, paced", hub.paced.cpu.server, base.paced.cpu.server, "%"),
        Figure(s, "loadgen CPU, paced", hub.paced.cpu.loadgen, base.paced.cpu.loadgen, "%"),
        Figure(s, "server starved, paced", hub.paced.cpu.server_starved, base.paced.cpu.server_starved, "%"),
        complete,
    ]
