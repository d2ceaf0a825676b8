"""History paging against room size: the newest page and a page from the middle, over HTTP,
for a room of 1,000 messages and one of 1,000,000 (goal: the same time for both).

    .venv/bin/python -m bench.history [--db postgresql] [--sizes 1000,1000000] [--repeats 300]

Each size gets a fresh database filled with one bulk INSERT (seqs 1..N, rooms.last_seq = N)
and its own Hubbub server (pinned to core 0; this client runs on core 1).
"""

from __future__ import annotations

import argparse
import logging
import os
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvloop

from bench import setup_db
from bench.servers import start_hubbub
from bench.stats import Summary

logger = logging.getLogger("bench.history")

PAGE = 50
WARMUP = 20


@dataclass(frozen=True, slots=True)
class SizeResult:
    size: int
    fill_seconds: float
    newest: Summary
    middle: Summary


async def _measure(client: httpx.AsyncClient, path: str, repeats: int, expect_first: int) -> Summary:
    times = []
    for i in range(WARMUP + repeats):
        start = time.perf_counter()
        response = await client.get(path)
        elapsed = time.perf_counter() - start
        response.raise_for_status()
        messages = response.json()["messages"]
        if len(messages) != PAGE or messages[0]["seq"] != expect_first:
            raise RuntimeError(
                f"{path}: unexpected page starting at {messages[0]['seq'] if messages else None}"
            )
        if i >= WARMUP:
            times.append(elapsed)
    return Summary.of(times)


async def measure_size(size: int, db_kind: str, repeats: int, workdir: Path) -> SizeResult:
    secret = secrets.token_urlsafe(48)
    database = await setup_db.create_database(db_kind, workdir)
    try:
        start = time.perf_counter()
        async with setup_db.connect(database.url) as connection:
            (user_id,) = await setup_db.add_users(connection, 1)
            (room_id,) = await setup_db.add_rooms(connection, 1)
            await setup_db.add_members(connection, [(room_id, user_id)])
            await setup_db.add_messages(connection, room_id=room_id, author_id=user_id, count=size)
            if db_kind == "postgresql":
                await connection.exec_driver_sql("ANALYZE messages")
        fill_seconds = time.perf_counter() - start
        logger.info("filled a room with %d messages in %.1f s", size, fill_seconds)
        (token,) = setup_db.mint_tokens(secret, [user_id])
        server = await start_hubbub(database_url=database.url, secret=secret, workdir=workdir)
        try:
            headers = {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(base_url=server.http_url, headers=headers) as client:
                base = f"/api/rooms/{room_id}/messages"
                newest = await _measure(client, f"{base}?limit={PAGE}", repeats, size - PAGE + 1)
                middle_seq = size // 2
                middle = await _measure(
                    client, f"{base}?before={middle_seq}&limit={PAGE}", repeats, middle_seq - PAGE
                )
        finally:
            await server.stop()
    finally:
        await setup_db.drop_database(database)
    return SizeResult(size, fill_seconds, newest, middle)


def _table(results: list[SizeResult], db_kind: str, repeats: int) -> str:
    lines = [
        f"History paging on {db_kind}, {repeats} requests per figure, page of {PAGE}\n",
        "| messages in the room | newest page p50 | newest p95 | middle page p50 | middle p95 | fill time |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        lines.append(
            f"| {r.size:,} | {r.newest.p50 * 1e3:.2f} ms | {r.newest.p95 * 1e3:.2f} ms | "
            f"{r.middle.p50 * 1e3:.2f} ms | {r.middle.p95 * 1e3:.2f} ms | {r.fill_seconds:.1f} s |"
        )
    if len(results) >= 2:
        small, large = results[0], results[-1]
        lines.append(
            f"| ratio {large.size:,} / {small.size:,} | {large.newest.p50 / small.newest.p50:.2f}× | "
            f"{large.newest.p95 / small.newest.p95:.2f}× | {large.middle.p50 / small.middle.p50:.2f}× | "
            f"{large.middle.p95 / small.middle.p95:.2f}× | |"
        )
    return "\n".join(lines) + "\n"


async def _main(args: argparse.Namespace) -> str:
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="hubbub-history-"))
    workdir.mkdir(parents=True, exist_ok=True)
    sizes = [int(size) for size in args.sizes.split(",")]
    results = [await measure_size(size, args.db, args.repeats, workdir) for size in sizes]
    return _table(results, args.db, args.repeats)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--sizes", default="1000,1000000", help="room sizes, comma-separated")
    parser.add_argument("--repeats", type=int, default=300, help="measured requests per figure")
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        os.sched_setaffinity(0, {1})
    except OSError as exc:
        logger.warning("could not pin the client to core 1: %s", exc)
    sys.stdout.write(uvloop.run(_main(args)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
