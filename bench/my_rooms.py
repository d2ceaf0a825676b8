"""`GET /api/me/rooms` against the number of rooms and the unread backlog: a person in 20
rooms and in 200, each room with thousands of messages they have not read (some mentioning
them, some deleted). Goal: 200 rooms cost at most 3× what 20 cost, however large the backlog.

    .venv/bin/python -m bench.my_rooms [--db postgresql] [--rooms 20,200] [--unread 5000] [--repeats 200]

Each count gets a fresh database filled in bulk and its own Hubbub server (pinned to core
0; this client runs on core 1). The answer is checked: every room's unread and mention
counts must be what was stored.
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
from sqlalchemy import text

from bench import setup_db
from bench.servers import start_hubbub
from bench.stats import Summary

logger = logging.getLogger("bench.my_rooms")

WARMUP = 20
MENTION_EVERY = 100  # one message in a hundred mentions the reader
DELETED_EVERY = 250  # one in 250 is deleted


@dataclass(frozen=True, slots=True)
class CountResult:
    rooms: int
    unread: int
    fill_seconds: float
    latency: Summary


def expected_counts(unread: int) -> tuple[int, int]:
    deleted = unread // DELETED_EVERY
    mentions = sum(1 for seq in range(1, unread + 1) if seq % MENTION_EVERY == 0 and seq % DELETED_EVERY)
    return unread - deleted, mentions


async def fill(url: str, rooms: int, unread: int) -> int:
    """The reader (user 1), an author (user 2), `rooms` rooms with both as members and `unread`
    messages by the author in each; the reader's cursor at 0."""
    async with setup_db.connect(url) as connection:
        reader, author = await setup_db.add_users(connection, 2)
        room_ids = await setup_db.add_rooms(connection, rooms)
        await setup_db.add_members(
            connection, [(room_id, user) for room_id in room_ids for user in (author, reader)]
        )
        for room_id in room_ids:
            await setup_db.add_messages(connection, room_id=room_id, author_id=author, count=unread)
        await connection.execute(
            text(
                "INSERT INTO message_mentions (user_id, room_id, seq, message_id) "
                "SELECT :reader, room_id, seq, id FROM messages WHERE seq % :every = 0"
            ),
            {"reader": reader, "every": MENTION_EVERY},
        )
        await connection.execute(
            text(
                "UPDATE messages SET mentions = :ids WHERE seq % :every = 0"
                if connection.dialect.name == "sqlite"
                else "UPDATE messages SET mentions = CAST(:ids AS json) WHERE seq % :every = 0"
            ),
            {"ids": f"[{reader}]", "every": MENTION_EVERY},
        )
        # Deleted messages lose their body and mentions, as `DELETE .../messages/{seq}` does.
        await connection.execute(
            text(
                "DELETE FROM message_mentions WHERE (room_id, seq) IN "
                "(SELECT room_id, seq FROM messages WHERE seq % :every = 0)"
            ),
            {"every": DELETED_EVERY},
        )
        await connection.execute(
            text(
                "UPDATE messages SET body = '', deleted_at = created_at, mentions = NULL "
                "WHERE seq % :every = 0"
            ),
            {"every": DELETED_EVERY},
        )
        if connection.dialect.name == "postgresql":
            await connection.exec_driver_sql("ANALYZE")
    return reader


async def measure(rooms: int, unread: int, db_kind: str, repeats: int, workdir: Path) -> CountResult:
    secret = secrets.token_urlsafe(48)
    database = await setup_db.create_database(db_kind, workdir)
    try:
        start = time.perf_counter()
        reader = await fill(database.url, rooms, unread)
        fill_seconds = time.perf_counter() - start
        logger.info("%d rooms × %d unread filled in %.1f s", rooms, unread, fill_seconds)
        (token,) = setup_db.mint_tokens(secret, [reader])
        server = await start_hubbub(database_url=database.url, secret=secret, workdir=workdir)
        want = expected_counts(unread)
        try:
            headers = {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(base_url=server.http_url, headers=headers, timeout=60) as client:
                times = []
                for i in range(WARMUP + repeats):
                    began = time.perf_counter()
                    response = await client.get("/api/me/rooms")
                    elapsed = time.perf_counter() - began
                    response.raise_for_status()
                    entries = response.json()
                    got = {(entry["unread"], entry["mentions"]) for entry in entries}
                    if len(entries) != rooms or got != {want}:
                        raise RuntimeError(f"wrong answer: {len(entries)} rooms, counts {got}, want {want}")
                    if i >= WARMUP:
                        times.append(elapsed)
        finally:
            await server.stop()
    finally:
        await setup_db.drop_database(database)
    return CountResult(rooms, unread, fill_seconds, Summary.of(times))


def table(results: list[CountResult], db_kind: str, repeats: int) -> str:
    lines = [
        f"GET /api/me/rooms on {db_kind}, {repeats} requests per figure\n",
        "| rooms | unread per room | p50 | p95 | fill time |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in results:
        lines.append(
            f"| {r.rooms:,} | {r.unread:,} | {r.latency.p50 * 1e3:.2f} ms | {r.latency.p95 * 1e3:.2f} ms | "
            f"{r.fill_seconds:.1f} s |"
        )
    if len(results) >= 2:
        small, large = results[0], results[-1]
        lines.append(
            f"| ratio {large.rooms} / {small.rooms} | | {large.latency.p50 / small.latency.p50:.2f}× | "
            f"{large.latency.p95 / small.latency.p95:.2f}× | (target ≤ 3×) |"
        )
    return "\n".join(lines) + "\n"


async def _main(args: argparse.Namespace) -> str:
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="hubbub-my-rooms-"))
    workdir.mkdir(parents=True, exist_ok=True)
    counts = [int(count) for count in args.rooms.split(",")]
    results = [await measure(count, args.unread, args.db, args.repeats, workdir) for count in counts]
    return table(results, args.db, args.repeats)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--rooms", default="20,200", help="room counts, comma-separated")
    parser.add_argument("--unread", type=int, default=5000, help="unread messages per room")
    parser.add_argument("--repeats", type=int, default=200, help="measured requests per figure")
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
