"""Fresh databases for one server run, filled fast with SQL (never counted in a figure).

The schema comes from Hubbub's own migrations (`python -m api.cli migrate`); users,
rooms, memberships and messages are inserted in bulk with SQLAlchemy Core and raw
SQL, and access tokens are minted with Hubbub's own `issue_token`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from sqlalchemy import bindparam, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from api.auth.tokens import TokenType, issue_token
from api.db import UTCDateTime
from api.models import Membership, Message, Room, User
from api.search import index

logger = logging.getLogger(__name__)

PG_ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
REPO_ROOT = Path(__file__).resolve().parent.parent
CREATED_AT = datetime(2026, 1, 1, tzinfo=UTC)
INSERT_CHUNK = 5000


@dataclass(frozen=True, slots=True)
class BenchDatabase:
    kind: str  # "sqlite" or "postgresql"
    url: str
    name: str  # the SQLite file, or the PostgreSQL database


async def create_database(kind: str, workdir: Path) -> BenchDatabase:
    """A new, empty database with Hubbub's schema."""
    tag = secrets.token_hex(4)
    if kind == "sqlite":
        path = workdir / f"hubbub-{tag}.db"
        database = BenchDatabase(kind, f"sqlite+aiosqlite:///{path}", str(path))
    elif kind == "postgresql":
        name = f"bench_{tag}"
        connection = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        database = BenchDatabase(kind, PG_URL.format(name=name), name)
    else:
        raise ValueError(f"unknown database kind {kind!r}")
    await migrate(database.url)
    return database


async def drop_database(database: BenchDatabase) -> None:
    if database.kind == "postgresql":
        connection = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')
        finally:
            await connection.close()
    else:
        _remove_sqlite_files(database.name)


def _remove_sqlite_files(path: str) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(path + suffix).unlink(missing_ok=True)


async def migrate(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING", "SECRET_KEY": "x" * 40}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "api.cli", "migrate", cwd=REPO_ROOT, env=env
    )
    if await process.wait() != 0:
        raise RuntimeError(f"migrating {url} failed")


@asynccontextmanager
async def connect(url: str) -> AsyncIterator[AsyncConnection]:
    """One transaction on the bench database, committed at the end."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            yield connection
    finally:
        await engine.dispose()


async def _insert_chunks(connection: AsyncConnection, table: object, rows: list[dict[str, object]]) -> None:
    for start in range(0, len(rows), INSERT_CHUNK):
        await connection.execute(insert(table), rows[start : start + INSERT_CHUNK])  # type: ignore[arg-type]


async def _fix_sequence(connection: AsyncConnection, table: str) -> None:
    if connection.dialect.name == "postgresql":
        await connection.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        )


async def add_users(
    connection: AsyncConnection, count: int, *, prefix: str = "u", password_hash: str = "not-a-hash"
) -> list[int]:
    """`count` active users named `{prefix}{n}`; their ids."""
    first = (await connection.scalar(select(func.coalesce(func.max(User.id), 0)))) + 1
    ids = list(range(first, first + count))
    rows = [
        {
            "id": user_id,
            "username": f"{prefix}{user_id}",
            "username_key": f"{prefix}{user_id}".lower(),
            "display_name": f"{prefix}{user_id}",
            "password_hash": password_hash,
            "is_admin": False,
            "is_active": True,
            "created_at": CREATED_AT,
        }
        for user_id in ids
    ]
    await _insert_chunks(connection, User.__table__, rows)
    await _fix_sequence(connection, "users")
    return ids


async def add_rooms(connection: AsyncConnection, count: int, *, prefix: str = "room") -> list[int]:
    first = (await connection.scalar(select(func.coalesce(func.max(Room.id), 0)))) + 1
    ids = list(range(first, first + count))
    rows = [
        {
            "id": room_id,
            "name": f"{prefix}-{room_id}",
            "name_key": f"{prefix}-{room_id}",
            "description": "",
            "is_private": False,
            "created_at": CREATED_AT,
            "last_seq": 0,
        }
        for room_id in ids
    ]
    await _insert_chunks(connection, Room.__table__, rows)
    await _fix_sequence(connection, "rooms")
    return ids


async def add_members(connection: AsyncConnection, pairs: Sequence[tuple[int, int]]) -> None:
    """Memberships from (room_id, user_id) pairs; the first member of each room is its owner."""
    seen: set[int] = set()
    rows = []
    for room_id, user_id in pairs:
        rows.append(
            {
                "room_id": room_id,
                "user_id": user_id,
                "role": "member" if room_id in seen else "owner",
                "joined_at": CREATED_AT,
            }
        )
        seen.add(room_id)
    await _insert_chunks(connection, Membership.__table__, rows)


async def add_messages(connection: AsyncConnection, *, room_id: int, author_id: int, count: int) -> None:
    """Messages with seqs 1..count in one statement (a recursive CTE or generate_series)."""
    if connection.dialect.name == "postgresql":
        numbers = "SELECT n FROM generate_series(1, :count) AS n"
    else:
        numbers = (
            "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :count) SELECT n FROM s"
        )
    statement = text(
        "INSERT INTO messages (room_id, seq, rev, author_id, body, nonce, created_at) "
        "SELECT :room_id, n, n, :author_id, 'history message number ' || n, NULL, :created_at "
        f"FROM ({numbers}) AS numbers"
    ).bindparams(bindparam("created_at", type_=UTCDateTime()))
    await connection.execute(
        statement, {"room_id": room_id, "author_id": author_id, "count": count, "created_at": CREATED_AT}
    )
    await connection.execute(
        text("UPDATE rooms SET last_seq = :count, last_rev = :count WHERE id = :room_id"),
        {"count": count, "room_id": room_id},
    )


async def add_search_messages(
    connection: AsyncConnection, *, room_ids: Sequence[int], author_id: int, count: int, elsewhere_from: int
) -> None:
    """`count` messages spread round-robin over `room_ids` (contiguous ids), in one statement.

    Each body has three words of a 10,007-word vocabulary (`w<k>`), a number of its own, and
    the planted words the search bench asks for: `common` in every second message, `zephyr` in
    10 of them, `alpha` in every 7th and `omega` in every 11th (both: 1 in 77), and `elsewhere`
    in every 10th message of the rooms from index `elsewhere_from` on."""
    rooms = len(room_ids)
    first = room_ids[0]
    n = "CAST(n AS BIGINT)"
    body = (
        f"'w' || (({n} * 7919) % 10007) || ' w' || (({n} * 104729) % 10007) || ' w' || "
        f"(({n} * 1299709) % 10007) || ' note ' || n"
        " || CASE WHEN n % 2 = 0 THEN ' common' ELSE '' END"
        " || CASE WHEN n % :rare_every = 0 THEN ' zephyr' ELSE '' END"
        " || CASE WHEN n % 7 = 0 THEN ' alpha' ELSE '' END"
        " || CASE WHEN n % 11 = 0 THEN ' omega' ELSE '' END"
        " || CASE WHEN (n - 1) % :rooms >= :elsewhere_from AND n % 10 = 0 THEN ' elsewhere' ELSE '' END"
    )
    if connection.dialect.name == "postgresql":
        numbers = "SELECT n FROM generate_series(1, :count) AS n"
    else:
        numbers = (
            "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < :count) SELECT n FROM s"
        )
    statement = text(
        "INSERT INTO messages (room_id, seq, author_id, body, nonce, created_at) "
        f"SELECT :first + (n - 1) % :rooms, (n - 1) / :rooms + 1, :author_id, {body}, NULL, :created_at "
        f"FROM ({numbers}) AS numbers"
    ).bindparams(bindparam("created_at", type_=UTCDateTime()))
    await connection.execute(
        statement,
        {
            "first": first,
            "rooms": rooms,
            "author_id": author_id,
            "count": count,
            "rare_every": max(1, count // 10),
            "elsewhere_from": elsewhere_from,
            "created_at": CREATED_AT,
        },
    )
    await connection.execute(
        text("UPDATE rooms SET last_seq = (SELECT count(*) FROM messages WHERE messages.room_id = rooms.id)")
    )


async def drop_search_index(url: str) -> None:
    """Remove the full-text index (and its triggers): what the writer costs without it."""
    async with connect(url) as connection:
        statements = index.sqlite_drop() if connection.dialect.name == "sqlite" else index.postgres_drop()
        for statement in statements:
            await connection.exec_driver_sql(statement)


async def count_messages(url: str) -> int:
    async with connect(url) as connection:
        return int(await connection.scalar(select(func.count()).select_from(Message)) or 0)


def mint_tokens(secret: str, user_ids: Sequence[int]) -> list[str]:
    """One access token per user, valid for an hour."""
    return [
        issue_token(key=secret, user_id=user_id, type=TokenType.access, lifetime=timedelta(hours=1))[0]
        for user_id in user_ids
    ]
