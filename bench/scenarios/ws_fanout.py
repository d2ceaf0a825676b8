"""ws_fanout: a room of 1,000 members, every one of them on `/ws` subscribed to 10 rooms (the
room and 9 quiet ones, shared by groups of 10), against the same room and members with one
room socket each, in the same run (each on a fresh server and database).

The publisher's way of sending (`publisher`): one member on one connection, a paced phase
(20 messages/s) for latency from send to receipt, then a saturated one with at most 16
messages in flight for deliveries per second; the frame cap is lifted for it. Every
subscriber must receive every message once, in seq order, the quiet rooms nothing, and
the server must have stored every message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from bench import setup_db
from bench.loadgen import (
    Client,
    CpuUse,
    MultiClient,
    Recorder,
    close_all,
    connect_many,
    connect_subscribed,
    settle,
)
from bench.report import Figure
from bench.scenarios.common import HUBBUB, Deployment, Settings, deploy
from bench.scenarios.fanout import PacedResult, paced_phase
from bench.scenarios.publisher import UNCAPPED, saturated

logger = logging.getLogger(__name__)

GROUP = 10  # members sharing the same quiet rooms
QUIET = 9
WS = "/ws"
ROOM_SOCKET = "room socket"
STALL_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class WsFanoutRun:
    paced: PacedResult
    deliveries_per_second: float
    messages_per_second: float
    cpu: CpuUse
    sent: int
    complete: bool


def layout(members: int) -> list[list[int]]:
    """Room 0 for everyone; then QUIET rooms of their own for each group of GROUP members."""
    return [[0, *(1 + k // GROUP * QUIET + j for j in range(QUIET))] for k in range(members)]


async def _open(variant: str, deployment: Deployment, members: int) -> list[Client]:
    if variant == WS:
        rooms = [deployment.rooms_of(k) for k in range(members)]
        clients = await connect_subscribed(deployment.multi_urls(), rooms, Recorder())
        for client in clients:
            client.send_room = deployment.room_ids[0]
        return list(clients)
    room_id = deployment.room_ids[0]
    urls = [deployment.server.ws_url(room_id, token) for token in deployment.tokens]
    return await connect_many(urls, Recorder())


def _problems(variant: str, clients: Sequence[Client], deployment: Deployment, total: int) -> list[str]:
    """Everything that says a subscriber did not get exactly every message, in order."""
    room_id = deployment.room_ids[0]
    problems = []
    if variant == WS:
        multi = [client for client in clients if isinstance(client, MultiClient)]
        missed = sum(not client.stream(room_id).received_all(total) for client in multi)
        quiet = sum(
            stream.messages + stream.activity
            for client in multi
            for other, stream in client.streams.items()
            if other != room_id
        )
        if quiet:
            problems.append(f"{quiet} frames in the quiet rooms")
        if ended := sum(client.ended for client in multi):
            problems.append(f"{ended} subscriptions ended")
        if strays := sum(client.strays for client in multi):
            problems.append(f"{strays} frames of rooms not subscribed")
    else:
        missed = sum(not client.received_all(total) for client in clients)
    if missed:
        problems.append(f"{missed} of {len(clients)} subscribers missed or reordered messages")
    if errors := sum(client.errors for client in clients):
        problems.append(f"{errors} error frames")
    return problems


async def run_one(variant: str, settings: Settings) -> WsFanoutRun:
    members = settings.ws_fanout_members
    rooms = 1 + members // GROUP * QUIET
    async with deploy(
        HUBBUB, settings, rooms=rooms, members=members, layout=layout(members), extra_env=UNCAPPED
    ) as deployment:
        clients = await _open(variant, deployment, members)
        await settle()
        paced_result = await paced_phase(
            deployment,
            clients,
            clients[:1],
            rate=settings.paced_rate,
            seconds=settings.paced_seconds,
            receivers=members,
        )
        try:
            # A window that never frees again (a message lost) would wait forever.
            per_second, messages, sent, complete, cpu = await asyncio.wait_for(
                saturated(deployment, clients, settings), settings.publisher_seconds + STALL_SECONDS
            )
        except TimeoutError:
            raise RuntimeError(f"ws_fanout ({variant}): the saturated phase stalled") from None
        total = paced_result.sent + sent  # the room's last seq: it started empty
        assert deployment.database is not None
        stored = await setup_db.count_messages(deployment.database.url)
        problems = _problems(variant, clients, deployment, total)
        if stored != total:
            problems.append(f"{stored} messages stored, {total} sent")
        if not (complete and paced_result.complete):
            problems.append("some messages never reached every subscriber")
        await close_all(clients)
    if problems:
        raise RuntimeError(f"ws_fanout ({variant}): " + "; ".join(problems))
    logger.info(
        "ws_fanout %s (%d members): %.0f deliveries/s, paced %s",
        variant,
        members,
        per_second,
        paced_result.latency.ms(),
    )
    return WsFanoutRun(paced_result, per_second, messages, cpu, total, complete)


async def run(settings: Settings) -> list[Figure]:
    ws = await run_one(WS, settings)
    socket = await run_one(ROOM_SOCKET, settings)
    s = (
        f"ws_fanout ({settings.ws_fanout_members} members on /ws, 1 + {QUIET} rooms each; "
        f"1 sender, window {settings.publisher_window})"
    )
    baseline = "baseline: the same room with a room socket each"
    # Neither issue names a target for these two: they are figures to know.
    throughput = Figure(
        s,
        "deliveries/s, saturated",
        ws.deliveries_per_second,
        socket.deliveries_per_second,
        "/s",
        note=baseline,
    )
    p99 = Figure(
        s,
        f"paced p99 ({settings.paced_rate:.0f} msg/s)",
        ws.paced.latency.p99,
        socket.paced.latency.p99,
        "ms",
    )
    complete = Figure(
        s,
        "every subscriber got every message once, in seq order; all stored",
        ws.complete and ws.paced.complete,
        socket.complete and socket.paced.complete,
        target="yes",
    )
    complete.met = bool(complete.hubbub)
    return [
        throughput,
        Figure(s, "messages/s, saturated", ws.messages_per_second, socket.messages_per_second, "/s"),
        Figure(s, "server CPU, saturated", ws.cpu.server, socket.cpu.server, "%"),
        Figure(s, "loadgen CPU, saturated", ws.cpu.loadgen, socket.cpu.loadgen, "%"),
        Figure(s, "server starved, saturated", ws.cpu.server_starved, socket.cpu.server_starved, "%"),
        Figure(s, "paced p50", ws.paced.latency.p50, socket.paced.latency.p50, "ms"),
        p99,
        Figure(s, "paced max", ws.paced.latency.max, socket.paced.latency.max, "ms"),
        complete,
    ]
