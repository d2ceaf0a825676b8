"""login: a burst of concurrent logins (real argon2id hashes, the server's default cost)
while the paced fanout runs; the fan-out p99 for messages sent during the burst against
the p99 of the same server just before it. Hubbub only: the baseline has no logins."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
from dataclasses import dataclass

from passlib.context import CryptContext

from api.config import Settings as HubbubSettings
from bench.loadgen import CpuMeter, Recorder, close_all, paced, perf, use_recorder
from bench.login_burst import LOGIN_TIMEOUT, PASSWORD
from bench.report import Figure, at_most
from bench.scenarios.common import HUBBUB, Deployment, Settings, deploy
from bench.scenarios.fanout import DRAIN_SECONDS, paced_phase, subscribe, warm_up
from bench.stats import Summary

logger = logging.getLogger(__name__)

AFTER_BURST_SECONDS = 1.0


def password_hash() -> str:
    """An argon2id hash with the server's default parameters (read from its Settings)."""
    defaults = HubbubSettings.model_fields
    context = CryptContext(
        schemes=["argon2"],
        argon2__type="ID",
        argon2__memory_cost=defaults["password_memory_kib"].default,
        argon2__time_cost=defaults["password_time_cost"].default,
        argon2__parallelism=defaults["password_parallelism"].default,
    )
    return str(context.hash(PASSWORD))


@dataclass(frozen=True, slots=True)
class LoginRun:
    before: Summary
    during: Summary
    burst_seconds: float
    logins_ok: int
    login_latency: Summary
    server_cpu: float
    server_starved: float


async def _ready_burst(deployment: Deployment) -> asyncio.subprocess.Process:
    """The process that will send the logins (`bench.login_burst`), set up and waiting, so
    that only the logins themselves fall inside the burst."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.login_burst",
        deployment.server.http_url,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(json.dumps(deployment.extra_users).encode() + b"\n")
    await child.stdin.drain()
    if (await child.stdout.readline()).strip() != b"ready":
        raise RuntimeError("the login burst process did not start")
    return child


async def _burst(child: asyncio.subprocess.Process) -> tuple[int, list[float]]:
    assert child.stdin is not None
    child.stdin.write(b"go\n")
    await child.stdin.drain()
    out, _ = await asyncio.wait_for(child.communicate(), LOGIN_TIMEOUT)
    if child.returncode != 0:
        raise RuntimeError(f"the login burst failed (exit {child.returncode})")
    result = json.loads(out)
    return int(result["ok"]), [float(t) for t in result["latencies"]]


async def run(settings: Settings) -> list[Figure]:
    n = settings.fanout_subscribers
    stored_hash = await asyncio.to_thread(password_hash)
    async with deploy(
        HUBBUB, settings, rooms=1, members=n, password_users=settings.logins, password_hash=stored_hash
    ) as deployment:
        clients = await subscribe(deployment)
        await warm_up(deployment, clients, settings)
        before = await paced_phase(
            deployment,
            clients,
            clients[:1],
            rate=settings.paced_rate,
            seconds=settings.login_before_seconds,
            receivers=n,
        )
        recorder = Recorder(keep_send_times=True)
        use_recorder(clients, recorder)
        sender = asyncio.create_task(
            paced(clients[:1], recorder, rate=settings.paced_rate, duration=3600, receivers=n)
        )
        child = await _ready_burst(deployment)
        await asyncio.sleep(0.5)
        meter = CpuMeter(deployment.server.cpu_seconds, deployment.server.pid)
        burst_start = perf()
        ok, latencies = await _burst(child)
        burst_end = perf()
        cpu = meter.read()
        await asyncio.sleep(AFTER_BURST_SECONDS)
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
        await recorder.drain(DRAIN_SECONDS)
        await close_all(clients)
    during = Summary.of(
        lat
        for lat, sent in zip(recorder.latencies, recorder.send_times, strict=True)
        if burst_start <= sent <= burst_end
    )
    run = LoginRun(
        before.latency,
        during,
        burst_end - burst_start,
        ok,
        Summary.of(latencies),
        cpu.server,
        cpu.server_starved,
    )
    logger.info(
        "login: p99 %.2f → %.2f ms during a %.2f s burst",
        run.before.p99 * 1e3,
        run.during.p99 * 1e3,
        run.burst_seconds,
    )
    return figures(run, settings)


def figures(run: LoginRun, settings: Settings) -> list[Figure]:
    s = f"login burst ({settings.logins} logins, {settings.fanout_subscribers} subs)"
    p99 = Figure(
        s, "fan-out p99 during / before the burst", run.during.p99 / run.before.p99, None, "x", target="≤ 1.5"
    )
    p99.met = at_most(run.during.p99 / run.before.p99, 1.5)
    return [
        Figure(s, "fan-out p99 before the burst", run.before.p99, None, "ms"),
        Figure(
            s, f"fan-out p99 during the burst ({run.during.count} deliveries)", run.during.p99, None, "ms"
        ),
        p99,
        Figure(s, "fan-out max during the burst", run.during.max, None, "ms"),
        Figure(s, "burst duration (all logins answered)", run.burst_seconds, None, "s"),
        Figure(s, "logins that succeeded", f"{run.logins_ok}/{settings.logins}"),
        Figure(
            s,
            "login latency p50 / max",
            f"{run.login_latency.p50 * 1e3:.0f} / {run.login_latency.max * 1e3:.0f} ms",
        ),
        Figure(s, "server CPU during the burst", run.server_cpu, None, "%"),
        Figure(s, "event loop starved during the burst (runnable, no CPU)", run.server_starved, None, "%"),
    ]
