"""Search latency against the number of messages: a rare word, a common word, a two-word query
and a short prefix, for a person in every room and for one in a few, over HTTP and as the
query alone.

    .venv/bin/python -m bench.search [--db postgresql] [--sizes 10000,1000000] [--repeats 200]

Each size gets a fresh database: 1,000 rooms, the messages spread over them round-robin
(`setup_db.add_search_messages`, one statement, indexed by the database as it goes), and two
searchers: `many`, a member of all 1,000 rooms, and `few`, of 10. The server is pinned to core
0, this client to core 1. "query alone" calls `api.search.service.search` in this process
(the same statements the route runs, without HTTP); on PostgreSQL the plans are logged.
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

from api.db import Database
from api.search import service
from api.search.words import query_words
from bench import setup_db
from bench.servers import start_hubbub
from bench.stats import Summary

logger = logging.getLogger("bench.search")

ROOMS = 1000
FEW = 10
WARMUP = 20
LIMIT = 20
QUERIES = {
    "rare word (10 messages)": "zephyr",
    "common word (1 in 2)": "common",
    "two words (1 in 77)": "alpha omega",
    "short prefix `w1` (1 in 4)": "w1",
    "common elsewhere, absent in own rooms (1 in 10)": "elsewhere",
}


@dataclass(frozen=True, slots=True)
class Result:
    size: int
    searcher: str
    query: str
    found: int
    http: Summary
    alone: Summary


async def _http(client: httpx.AsyncClient, q: str, repeats: int) -> tuple[Summary, int]:
    times = []
    found = 0
    for i in range(WARMUP + repeats):
        start = time.perf_counter()
        response = await client.get("/api/search", params={"q": q, "limit": LIMIT})
        elapsed = time.perf_counter() - start
        response.raise_for_status()
        found = len(response.json()["messages"])
        if i >= WARMUP:
            times.append(elapsed)
    return Summary.of(times), found


async def _alone(db: Database, user_id: int, q: str, repeats: int) -> Summary:
    words = query_words(q)
    times = []
    for i in range(WARMUP + repeats):
        async with db.session() as session:
            start = time.perf_counter()
            await service.search(
                session, user_id=user_id, words=words, room_id=None, before=None, limit=LIMIT
            )
            elapsed = time.perf_counter() - start
        if i >= WARMUP:
            times.append(elapsed)
    return Summary.of(times)


async def _log_plans(db: Database, user_id: int) -> None:
    """EXPLAIN ANALYZE of the two statements the PostgreSQL search runs (as it runs them)."""
    async with db.session() as session:
        rooms = list(
            (
                await session.scalars(
                    text("SELECT room_id FROM memberships WHERE user_id = :u"), {"u": user_id}
                )
            ).all()
        )
        upper = int(await session.scalar(text("SELECT max(id) FROM messages")) or 0) + 1
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        for label, q in QUERIES.items():
            parameters = {
                "tsquery": service.postgres_tsquery(query_words(q)),
                "rooms": rooms,
                "upper": upper,
                "floor": upper - service.RECENT_WINDOW,
                "limit": LIMIT + 1,
            }
            for step, id_range in (
                ("recent", "m.id < :upper AND m.id >= :floor"),
                ("older", "m.id < :floor"),
            ):
                statement = service.postgres_statement(id_range)
                explain = text("EXPLAIN (ANALYZE, BUFFERS) " + statement.text).bindparams(
                    *statement._bindparams.values()
                )
                if step == "older":
                    await session.execute(text("SET LOCAL enable_indexscan = off"))
                plan = await session.execute(explain, parameters)
                logger.info(
                    "plan, %s step, %s (user %d):\n%s", step, label, user_id, "\n".join(r[0] for r in plan)
                )
            await session.execute(text("SET LOCAL enable_indexscan = on"))


async def measure_size(size: int, db_kind: str, repeats: int, workdir: Path) -> list[Result]:
    secret = secrets.token_urlsafe(48)
    database = await setup_db.create_database(db_kind, workdir)
    try:
        start = time.perf_counter()
        async with setup_db.connect(database.url) as connection:
            many, few = await setup_db.add_users(connection, 2)
            room_ids = await setup_db.add_rooms(connection, ROOMS)
            pairs = [(room_id, many) for room_id in room_ids] + [(room_id, few) for room_id in room_ids[:FEW]]
            await setup_db.add_members(connection, pairs)
            await setup_db.add_search_messages(
                connection, room_ids=room_ids, author_id=many, count=size, elsewhere_from=FEW
            )
        async with setup_db.connect(database.url) as connection:
            await connection.exec_driver_sql("ANALYZE")
        logger.info("filled %d messages in %.1f s", size, time.perf_counter() - start)
        tokens = dict(zip(("many", "few"), setup_db.mint_tokens(secret, [many, few]), strict=True))
        ids = {"many": many, "few": few}
        server = await start_hubbub(database_url=database.url, secret=secret, workdir=workdir)
        db = Database(database.url)
        results = []
        try:
            if db_kind == "postgresql":
                await _log_plans(db, many)
                await _log_plans(db, few)
            for searcher, token in tokens.items():
                headers = {"Authorization": f"Bearer {token}"}
                async with httpx.AsyncClient(base_url=server.http_url, headers=headers, timeout=60) as client:
                    for label, q in QUERIES.items():
                        http, found = await _http(client, q, repeats)
                        alone = await _alone(db, ids[searcher], q, repeats)
                        results.append(Result(size, searcher, label, found, http, alone))
                        logger.info(
                            "%s %s %s: http %s; alone %s", size, searcher, label, http.ms(), alone.ms()
                        )
        finally:
            await db.dispose()
            await server.stop()
    finally:
        await setup_db.drop_database(database)
    return results


def _table(results: list[Result], db_kind: str, repeats: int) -> str:
    lines = [
        f"Search on {db_kind}, {ROOMS:,} rooms, {repeats} requests per figure, limit {LIMIT}; "
        f"`many` belongs to every room, `few` to {FEW}\n",
        "| messages | searcher | query | found | HTTP p50 | HTTP p95 | query alone p50 | query alone p95 |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        lines.append(
            f"| {r.size:,} | {r.searcher} | {r.query} | {r.found} | {r.http.p50 * 1e3:.2f} ms | "
            f"{r.http.p95 * 1e3:.2f} ms | {r.alone.p50 * 1e3:.2f} ms | {r.alone.p95 * 1e3:.2f} ms |"
        )
    return "\n".join(lines) + "\n"


async def _main(args: argparse.Namespace) -> str:
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="hubbub-search-"))
    workdir.mkdir(parents=True, exist_ok=True)
    results: list[Result] = []
    for size in (int(size) for size in args.sizes.split(",")):
        results += await measure_size(size, args.db, args.repeats, workdir)
    return _table(results, args.db, args.repeats)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--sizes", default="10000,1000000", help="message counts, comma-separated")
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
