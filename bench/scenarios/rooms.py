"""rooms: R rooms × M members, every member sending at a steady rate (at most one message of
its own outstanding), on Hubbub with SQLite, Hubbub with PostgreSQL, and the baseline."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from bench import setup_db
from bench.loadgen import CpuMeter, CpuUse, Recorder, close_all, connect_many, settle, steady, use_recorder
from bench.report import Figure, at_least
from bench.scenarios.common import BASELINE, HUBBUB, Settings, deploy
from bench.stats import Summary

logger = logging.getLogger(__name__)

DRAIN_SECONDS = 10.0  # with no receipt at all: the rest is lost


@dataclass(frozen=True, slots=True)
class RoomsRun:
    label: str
    offered: float  # messages/s asked for
    sent: int
    skipped: int
    acked_per_second: float  # sends that came back to their sender
    persisted_per_second: float | None  # rows in the database / duration (Hubbub only)
    all_persisted: bool | None
    deliveries_per_second: float
    latency: Summary
    complete: bool
    errors: int
    cpu: CpuUse


async def run_one(
    kind: str, settings: Settings, db_kind: str = "sqlite", *, search_index: bool = True
) -> RoomsRun:
    members = settings.room_members
    label = kind if kind == BASELINE else f"{kind}/{db_kind}" + ("" if search_index else ", no search index")
    async with deploy(
        kind, settings, rooms=settings.rooms, members=members, db_kind=db_kind, search_index=search_index
    ) as deployment:
        clients = await connect_many(deployment.urls(), Recorder())
        await settle()
        recorder = Recorder()
        use_recorder(clients, recorder)
        meter = CpuMeter(deployment.server.cpu_seconds, deployment.server.pid)
        result = await steady(
            clients,
            recorder,
            rate=settings.room_rate,
            duration=settings.room_seconds,
            receivers=lambda c: members,
        )
        complete = await recorder.drain(DRAIN_SECONDS)
        cpu = meter.read()
        elapsed = max(recorder.last_receipt - recorder.first_send, 1e-9)
        acked = sum(client.acked for client in clients)
        errors = sum(client.errors for client in clients)
        persisted: float | None = None
        all_persisted: bool | None = None
        if deployment.database is not None:
            rows = await setup_db.count_messages(deployment.database.url)
            persisted = rows / elapsed
            all_persisted = rows == result.sent == acked
            if not all_persisted:
                logger.warning(
                    "%s: %d sent, %d acknowledged, %d rows stored", label, result.sent, acked, rows
                )
        await close_all(clients)
    run = RoomsRun(
        label,
        settings.room_rate * len(clients),
        result.sent,
        result.skipped,
        acked / elapsed,
        persisted,
        all_persisted,
        recorder.deliveries / elapsed,
        Summary.of(recorder.latencies),
        complete,
        errors,
        cpu,
    )
    logger.info(
        "rooms %s: %.0f msg/s acked, %.0f deliveries/s, %s",
        label,
        run.acked_per_second,
        run.deliveries_per_second,
        run.latency.ms(),
    )
    return run


async def run(settings: Settings, databases: tuple[str, ...] = ("sqlite", "postgresql")) -> list[Figure]:
    base = await run_one(BASELINE, settings)
    figures: list[Figure] = []
    for db_kind in databases:
        figures += rows(await run_one(HUBBUB, settings, db_kind), base, settings)
    return figures


async def run_search_cost(
    settings: Settings, databases: tuple[str, ...] = ("sqlite", "postgresql")
) -> list[Figure]:
    """The rooms scenario on Hubbub with the full-text index against Hubbub without it (its
    triggers, or its generated column, dropped), in the same run: the baseline column here is
    Hubbub without the index. Each runs twice, in the order without, with, with, without, and
    the figures are the means, so a machine that gets busier or quieter favours neither."""
    figures: list[Figure] = []
    for db_kind in databases:
        runs: dict[bool, list[RoomsRun]] = {False: [], True: []}
        for search_index in (False, True, True, False):
            runs[search_index].append(await run_one(HUBBUB, settings, db_kind, search_index=search_index))
        on, off = runs[True], runs[False]
        s = f"search index cost, rooms {settings.rooms}×{settings.room_members} ({db_kind}, mean of 2)"
        figures += [
            Figure(
                s,
                "messages/s sent and echoed back (baseline: without the index)",
                _mean(r.acked_per_second for r in on),
                _mean(r.acked_per_second for r in off),
                "/s",
            ),
            Figure(
                s,
                "every message persisted and delivered",
                all(r.all_persisted and r.complete for r in on),
                all(r.all_persisted and r.complete for r in off),
            ),
            Figure(
                s, "p50 latency", _mean(r.latency.p50 for r in on), _mean(r.latency.p50 for r in off), "ms"
            ),
            Figure(
                s, "p99 latency", _mean(r.latency.p99 for r in on), _mean(r.latency.p99 for r in off), "ms"
            ),
            Figure(s, "server CPU", _mean(r.cpu.server for r in on), _mean(r.cpu.server for r in off), "%"),
            Figure(
                s,
                "server starved",
                _mean(r.cpu.server_starved for r in on),
                _mean(r.cpu.server_starved for r in off),
                "%",
            ),
        ]
    return figures


def _mean(values: Iterable[float]) -> float:
    listed = list(values)
    return sum(listed) / len(listed)


def rows(hub: RoomsRun, base: RoomsRun, settings: Settings) -> list[Figure]:
    s = f"rooms {settings.rooms}×{settings.room_members} ({hub.label})"
    deliveries = Figure(
        s,
        f"deliveries/s (offered {hub.offered * settings.room_members:,.0f}/s)",
        hub.deliveries_per_second,
        base.deliveries_per_second,
        "/s",
        target="ratio ≥ 0.7 and all persisted",
    )
    deliveries.met = bool(at_least(deliveries.ratio, 0.7)) and bool(hub.all_persisted)
    return [
        deliveries,
        Figure(s, "messages/s sent and echoed back", hub.acked_per_second, base.acked_per_second, "/s"),
        Figure(s, "persisted messages/s (rows in the database)", hub.persisted_per_second, None, "/s"),
        Figure(
            s,
            "every message persisted and delivered",
            bool(hub.all_persisted and hub.complete),
            base.complete,
        ),
        Figure(s, "sends skipped: own previous message not back yet", hub.skipped, base.skipped),
        Figure(s, "error frames", hub.errors, base.errors),
        Figure(s, "p50 latency", hub.latency.p50, base.latency.p50, "ms"),
        Figure(s, "p99 latency", hub.latency.p99, base.latency.p99, "ms"),
        Figure(s, "server CPU", hub.cpu.server, base.cpu.server, "%"),
        Figure(s, "loadgen CPU", hub.cpu.loadgen, base.cpu.loadgen, "%"),
        Figure(
            s,
            "server starved (runnable, core taken by others)",
            hub.cpu.server_starved,
            base.cpu.server_starved,
            "%",
        ),
    ]
