"""ws_subscribe: on an open `/ws` connection, the time from sending one `subscribe` frame that
names 10 rooms (each with 50 messages) to the last of their 10 presence frames, each after its
history; also for 1 room. The baseline is a `ping` → `pong` round trip on the same connection,
measured between the subscribes.

Each repeat unsubscribes the rooms again (and waits for every `unsubscribed`), so every
subscribe is a new subscription, not a restart of one. The frame cap is lifted: a repeat
sends a dozen frames at once, and the cap would answer some of them `rate_limited`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bench.loadgen import MultiClient, Recorder, close_all, connect, perf
from bench.report import Figure, at_most
from bench.scenarios.common import HUBBUB, Settings, deploy
from bench.scenarios.publisher import UNCAPPED
from bench.stats import Summary

logger = logging.getLogger(__name__)

ROOMS = 10
WARMUP = 3
TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class SubscribeRun:
    ten: Summary
    one: Summary
    ping: Summary


async def _subscribe(client: MultiClient, room_ids: list[int], history: int) -> float:
    """One subscribe, checked: every room's history holds its newest `history` messages."""
    start = perf()
    elapsed = await client.subscribe(room_ids) - start
    for room_id in room_ids:
        stream = client.streams[room_id]
        if stream.history_messages != history or stream.history_last_seq != history:
            raise RuntimeError(
                f"ws_subscribe: room {room_id} history held {stream.history_messages} messages "
                f"up to seq {stream.history_last_seq}; {history} expected"
            )
    await client.unsubscribe(room_ids)
    return elapsed


async def run(settings: Settings) -> list[Figure]:
    history = settings.ws_subscribe_history
    async with deploy(
        HUBBUB,
        settings,
        rooms=ROOMS,
        members=1,
        layout=[list(range(ROOMS))],
        history=history,
        history_rooms=ROOMS,
        extra_env=UNCAPPED,
    ) as deployment:
        client = await connect(deployment.multi_urls()[0], Recorder(), factory=MultiClient)
        assert isinstance(client, MultiClient)
        rooms = deployment.rooms_of(0)
        for _ in range(WARMUP):
            await asyncio.wait_for(client.ping(), TIMEOUT)
            await _subscribe(client, rooms, history)
            await _subscribe(client, rooms[:1], history)
        ten, one, pings = [], [], []
        for _ in range(settings.ws_subscribe_repeats):
            pings.append(await asyncio.wait_for(client.ping(), TIMEOUT))
            ten.append(await _subscribe(client, rooms, history))
            pings.append(await asyncio.wait_for(client.ping(), TIMEOUT))
            one.append(await _subscribe(client, rooms[:1], history))
        if client.errors or client.ended or client.strays or client.closed.done():
            raise RuntimeError(
                f"ws_subscribe: {client.errors} error frames, {client.ended} refused subscriptions, "
                f"{client.strays} stray frames, closed: {client.closed.done()}"
            )
        await close_all([client])
    result = SubscribeRun(Summary.of(ten), Summary.of(one), Summary.of(pings))
    logger.info(
        "ws_subscribe: 10 rooms %.2f ms, 1 room %.2f ms, ping %.2f ms (medians)",
        result.ten.p50 * 1e3,
        result.one.p50 * 1e3,
        result.ping.p50 * 1e3,
    )
    return figures(result, settings)


def figures(result: SubscribeRun, settings: Settings) -> list[Figure]:
    s = (
        f"ws_subscribe ({settings.ws_subscribe_history} messages a room, "
        f"{settings.ws_subscribe_repeats} repeats)"
    )
    ping = "baseline: ping → pong on the same connection"
    median = Figure(
        s,
        f"subscribe {ROOMS} rooms → last presence, median",
        result.ten.p50,
        result.ping.p50,
        "ms",
        target="ratio < 20",
        note=ping,
    )
    median.met = at_most(median.ratio, 20.0 - 1e-9)
    return [
        median,
        Figure(s, f"subscribe {ROOMS} rooms → last presence, p95", result.ten.p95, result.ping.p95, "ms"),
        Figure(s, "subscribe 1 room → presence, median", result.one.p50, result.ping.p50, "ms", note=ping),
        Figure(s, "subscribe 1 room → presence, p95", result.one.p95, result.ping.p95, "ms"),
        Figure(s, "ping → pong, median", result.ping.p50, None, "ms"),
    ]
