"""activity: the cost of `activity` fan-out. 1,000 members of a room are on `/ws` without
subscribing to it, so each new message reaches each of them as an `activity` frame, while one
more member, subscribed on a room socket, saturates the room (at most 16 messages in flight,
the publisher's way). Against the same room where those 1,000 members hold a room socket
each and receive the message frames: a room broadcast, in the same run, each on a fresh
server and database.

Activity frames carry no nonce: the k-th message the publisher sends is expected as the
room's seq k (`SeqRecorder`). Every member must hear of every message once, in seq order
(and get no message frame of it), and the server must have stored every message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from bench import setup_db
from bench.loadgen import (
    Client,
    CpuMeter,
    CpuUse,
    MultiClient,
    Recorder,
    SeqRecorder,
    close_all,
    connect,
    connect_many,
    connect_subscribed,
    saturate,
    settle,
    use_recorder,
)
from bench.report import Figure, at_least
from bench.scenarios.common import HUBBUB, Deployment, Settings, deploy
from bench.scenarios.fanout import DRAIN_SECONDS
from bench.scenarios.publisher import UNCAPPED

logger = logging.getLogger(__name__)

ACTIVITY = "activity"
BROADCAST = "broadcast"
STALL_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class ActivityRun:
    frames_per_second: float  # activity frames, or message frames, received by the 1,000
    messages_per_second: float
    sent: int
    cpu: CpuUse
    complete: bool  # every check passed (a run that fails one raises instead)


async def _receivers(variant: str, deployment: Deployment) -> list[Client]:
    urls = deployment.multi_urls()[1:]
    if variant == ACTIVITY:
        clients = await connect_subscribed(urls, [[] for _ in urls], Recorder())
        # `ready` comes before the connection watches its rooms; a frame is read only after.
        await asyncio.wait_for(asyncio.gather(*(client.ping() for client in clients)), STALL_SECONDS)
        return list(clients)
    room_id = deployment.room_ids[0]
    return await connect_many(
        [deployment.server.ws_url(room_id, token) for token in deployment.tokens[1:]], Recorder()
    )


def _recorder(variant: str, room_id: int, first_seq: int) -> Recorder:
    if variant == ACTIVITY:
        return SeqRecorder(room_id, first_seq, record_latency=False)
    return Recorder(record_latency=False)


async def _send(
    variant: str,
    deployment: Deployment,
    publisher: Client,
    clients: Sequence[Client],
    settings: Settings,
    *,
    first_seq: int,
    seconds: float,
    window: int,
) -> tuple[Recorder, CpuUse]:
    recorder = _recorder(variant, deployment.room_ids[0], first_seq)
    use_recorder(clients, recorder)
    meter = CpuMeter(deployment.server.cpu_seconds, deployment.server.pid)
    sending = saturate(
        [publisher],
        recorder,
        duration=seconds,
        window=window,
        receivers=len(clients),
        per_connection_rate=1_000_000,
    )
    try:
        # A window that never frees again (frames lost, or not the seqs expected) would wait forever.
        await asyncio.wait_for(sending, seconds + STALL_SECONDS)
    except TimeoutError:
        raise RuntimeError(f"activity ({variant}): stalled, {recorder.missing} frames missing") from None
    if not await recorder.drain(DRAIN_SECONDS):
        raise RuntimeError(f"activity ({variant}): {recorder.missing} frames never arrived")
    return recorder, meter.read()


def _problems(variant: str, clients: Sequence[Client], room_id: int, total: int) -> list[str]:
    problems = []
    if variant == ACTIVITY:
        multi = [client for client in clients if isinstance(client, MultiClient)]
        missed = sum(not client.stream(room_id).heard_all(1, total) for client in multi)
        if messages := sum(client.messages + client.strays for client in multi):
            problems.append(f"{messages} message frames to members not subscribed")
    else:
        missed = sum(not client.received_all(total) for client in clients)
    if missed:
        problems.append(f"{missed} of {len(clients)} members missed or reordered messages")
    if errors := sum(client.errors for client in clients):
        problems.append(f"{errors} error frames")
    return problems


async def run_one(variant: str, settings: Settings) -> ActivityRun:
    members = settings.activity_members
    async with deploy(HUBBUB, settings, rooms=1, members=members + 1, extra_env=UNCAPPED) as deployment:
        room_id = deployment.room_ids[0]
        publisher = await connect(deployment.server.ws_url(room_id, deployment.tokens[0]), Recorder())
        clients = await _receivers(variant, deployment)
        await settle()
        # A few messages nobody measures, so the measured ones do not pay for cold caches.
        warm, _ = await _send(
            variant, deployment, publisher, clients, settings, first_seq=1, seconds=0.5, window=1
        )
        recorder, cpu = await _send(
            variant,
            deployment,
            publisher,
            clients,
            settings,
            first_seq=warm.sent + 1,
            seconds=settings.publisher_seconds,
            window=settings.publisher_window,
        )
        total = warm.sent + recorder.sent
        assert deployment.database is not None
        stored = await setup_db.count_messages(deployment.database.url)
        problems = _problems(variant, clients, room_id, total)
        if not publisher.received_all(total):
            problems.append("the publisher missed or reordered its own messages")
        if stored != total:
            problems.append(f"{stored} messages stored, {total} sent")
        await close_all([publisher, *clients])
    if problems:
        raise RuntimeError(f"activity ({variant}): " + "; ".join(problems))
    elapsed = max(recorder.last_receipt - recorder.first_send, 1e-9)
    run = ActivityRun(
        recorder.deliveries / elapsed, recorder.completed / elapsed, recorder.sent, cpu, not problems
    )
    logger.info(
        "activity %s (%d members): %.0f frames/s, %.0f messages/s",
        variant,
        members,
        run.frames_per_second,
        run.messages_per_second,
    )
    return run


async def run(settings: Settings) -> list[Figure]:
    heard = await run_one(ACTIVITY, settings)
    broadcast = await run_one(BROADCAST, settings)
    s = f"activity ({settings.activity_members} members on /ws, 1 sender, window {settings.publisher_window})"
    rate = Figure(
        s,
        "activity frames delivered/s, saturated",
        heard.frames_per_second,
        broadcast.frames_per_second,
        "/s",
        target="ratio ≥ 0.5",
        note="baseline: message frames/s, the same room broadcast to a room socket each",
    )
    rate.met = at_least(rate.ratio, 0.5)
    complete = Figure(
        s,
        "every member heard of every message once, in seq order; all stored",
        heard.complete,
        broadcast.complete,
        target="yes",
    )
    complete.met = heard.complete
    return [
        rate,
        Figure(s, "messages/s, saturated", heard.messages_per_second, broadcast.messages_per_second, "/s"),
        Figure(s, "server CPU, saturated", heard.cpu.server, broadcast.cpu.server, "%"),
        Figure(s, "loadgen CPU, saturated", heard.cpu.loadgen, broadcast.cpu.loadgen, "%"),
        Figure(s, "server starved, saturated", heard.cpu.server_starved, broadcast.cpu.server_starved, "%"),
        complete,
    ]
