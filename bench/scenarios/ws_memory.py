"""ws_memory: server memory per person, each in 10 rooms of 10 members, when every person holds
one `/ws` connection subscribed to their 10 rooms, one room socket, or ten room sockets.

Measured as `idle` measures: a warm-up of 50 people that connect and leave, then the server's
RSS before everyone connects and after all are connected and settled. Each variant gets a
fresh server and database with the same people and rooms. The ratios are within Hubbub:
`/ws` with 10 subscriptions against one room socket (what one connection for every room
costs over one connection for one room), and against the ten sockets it replaces.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from dataclasses import dataclass

from bench.loadgen import Client, MultiClient, Recorder, close_all, connect_many, connect_subscribed, settle
from bench.report import Figure, at_most
from bench.scenarios.common import HUBBUB, Deployment, Settings, deploy

logger = logging.getLogger(__name__)

WARMUP_PEOPLE = 50
ROOM_SIZE = 10
CONCURRENCY = 100
FD_HEADROOM = 1000  # files besides the sockets: the server's database, logs, listening socket

WS = "one /ws, 10 subscriptions"
ONE = "one room socket"
TEN = "ten room sockets"


@dataclass(frozen=True, slots=True)
class MemoryRun:
    variant: str
    people: int
    connections: int
    rss_before: int
    rss_after: int
    connect_seconds: float

    @property
    def per_person(self) -> float:
        return (self.rss_after - self.rss_before) / self.people


def layout(people: int, each: int) -> list[list[int]]:
    """Groups of ROOM_SIZE people, each group sharing `each` rooms of its own."""
    return [[k // ROOM_SIZE * each + j for j in range(each)] for k in range(people)]


def ten_socket_people(people: int, each: int) -> int:
    """How many people can hold `each` sockets at once within the open-file limit (the
    server's is the same: it inherits ours)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    fits = (soft - FD_HEADROOM) // each // ROOM_SIZE * ROOM_SIZE
    return max(ROOM_SIZE, min(people, fits))


async def _open(variant: str, deployment: Deployment, people: range) -> list[Client]:
    server = deployment.server
    tokens = deployment.tokens
    if variant == WS:
        urls = [server.multi_url(tokens[k]) for k in people]
        rooms = [deployment.rooms_of(k) for k in people]
        return list(await connect_subscribed(urls, rooms, Recorder(), concurrency=CONCURRENCY))
    if variant == ONE:
        # A different room of the group for each person: every room has one connection.
        urls = [server.ws_url(deployment.rooms_of(k)[k % ROOM_SIZE], tokens[k]) for k in people]
    else:
        urls = [server.ws_url(room_id, tokens[k]) for k in people for room_id in deployment.rooms_of(k)]
    return await connect_many(urls, Recorder(), concurrency=CONCURRENCY)


def _check(variant: str, clients: list[Client], deployment: Deployment, gauge: float, each: int) -> None:
    """Fail loudly on anything but everyone connected, subscribed and unrefused."""
    problems = []
    if gauge != len(clients):
        problems.append(f"server counts {gauge:.0f} connections, {len(clients)} open")
    if errors := sum(client.errors for client in clients):
        problems.append(f"{errors} error frames")
    if closed := sum(client.closed.done() for client in clients):
        problems.append(f"{closed} connections closed")
    multi = [client for client in clients if isinstance(client, MultiClient)]
    if variant == WS:
        if len(multi) != len(clients):
            problems.append("not every client is on /ws")
        if ended := sum(client.ended for client in multi):
            problems.append(f"{ended} subscriptions refused or ended")
        live = sum(stream.live for client in multi for stream in client.streams.values())
        if live != len(clients) * each:
            problems.append(f"{live} live subscriptions, {len(clients) * each} expected")
    if problems:
        raise RuntimeError(f"ws_memory ({variant}): " + "; ".join(problems))


async def run_one(variant: str, settings: Settings, people: int) -> MemoryRun:
    each = settings.ws_rooms_each
    rooms = people // ROOM_SIZE * each
    async with deploy(
        HUBBUB, settings, rooms=rooms, members=ROOM_SIZE, layout=layout(people, each)
    ) as deployment:
        # Warm up code paths and caches, then measure from a settled process.
        warm = await _open(variant, deployment, range(WARMUP_PEOPLE))
        await close_all(warm)
        await asyncio.sleep(1)
        before = deployment.server.rss()
        loop = asyncio.get_running_loop()
        start = loop.time()
        clients = await _open(variant, deployment, range(people))
        connect_seconds = loop.time() - start
        await settle(quiet=1.0)
        await asyncio.sleep(2)
        after = deployment.server.rss()
        gauge = await deployment.server.metric("hubbub_connections")
        _check(variant, clients, deployment, gauge, each)
        await close_all(clients, within=60)
    run = MemoryRun(variant, people, len(clients), before, after, connect_seconds)
    logger.info(
        "ws_memory %s: %d people, %d connections, %.1f KiB per person, connected in %.1f s",
        variant,
        people,
        len(clients),
        run.per_person / 1024,
        connect_seconds,
    )
    return run


async def run(settings: Settings) -> list[Figure]:
    people = settings.ws_people
    each = settings.ws_rooms_each
    ws = await run_one(WS, settings, people)
    one = await run_one(ONE, settings, people)
    ten = await run_one(TEN, settings, ten_socket_people(people, each))
    s = f"ws_memory ({people} people × {each} rooms of {ROOM_SIZE})"
    against_one = Figure(
        s,
        f"server RSS per person: {WS} (baseline: {ONE})",
        ws.per_person,
        one.per_person,
        "KiB",
        target="ratio < 2",
    )
    against_one.met = at_most(against_one.ratio, 2.0 - 1e-9)
    ten_note = (
        ""
        if ten.people == people
        else f"{ten.people} of the people, {ten.connections} sockets: the open-file limit"
    )
    return [
        against_one,
        Figure(s, f"server RSS per person: {WS} (baseline: {TEN})", ws.per_person, ten.per_person, "KiB"),
        Figure(
            s,
            f"server RSS per person: {TEN} (baseline: {ONE})",
            ten.per_person,
            one.per_person,
            "KiB",
            note=ten_note,
        ),
        Figure(
            s,
            f"server RSS growth, total: {WS} (baseline: {ONE})",
            ws.rss_after - ws.rss_before,
            one.rss_after - one.rss_before,
            "MiB",
        ),
        Figure(
            s,
            f"time to connect and subscribe all: {WS} (baseline: {ONE})",
            ws.connect_seconds,
            one.connect_seconds,
            "s",
        ),
        Figure(s, f"time to connect all: {TEN}", ten.connect_seconds, None, "s", note=ten_note),
    ]
