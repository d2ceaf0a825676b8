"""TokenUsage: `last_used_at` written at most once per interval per token, whatever races in,
and a failed write never fails the request."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, select

from api.auth.models import User
from api.db import Database
from api.tokens.models import ApiToken
from api.tokens.usage import TokenUsage


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


async def stored_token(db: Database, count: int = 1) -> list[ApiToken]:
    async with db.writing() as session:
        user = User(username="ada", username_key="ada", display_name="ada", password_hash="!")
        session.add(user)
        await session.flush()
        tokens = [
            ApiToken(user_id=user.id, name=f"t{i}", secret_hash=f"{i:064x}", created_at=datetime.now(UTC))
            for i in range(count)
        ]
        session.add_all(tokens)
    return tokens


async def last_used(db: Database, token: ApiToken) -> datetime | None:
    async with db.session() as session:
        return await session.scalar(select(ApiToken.last_used_at).where(ApiToken.id == token.id))


def count_writes(db: Database) -> list[str]:
    writes: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("UPDATE API_TOKENS"):
            writes.append(statement)

    event.listen(db.write_engine.sync_engine, "before_cursor_execute", count)
    return writes


async def test_racing_uses_write_once_per_interval(db: Database) -> None:
    [token] = await stored_token(db)
    writes = count_writes(db)
    usage = TokenUsage(db, interval=0.3)
    # Requests racing in with the row as they read it (no last_used_at yet): one write.
    await asyncio.gather(*(usage.used(token) for _ in range(10)))
    assert len(writes) == 1
    first = await last_used(db, token)
    assert first is not None
    # Once the interval has passed, the next use writes again.
    await asyncio.sleep(0.35)
    await usage.used(token)
    assert len(writes) == 2
    second = await last_used(db, token)
    assert second is not None and second > first


async def test_a_recent_stored_time_needs_no_write(db: Database) -> None:
    """Another worker wrote it a moment ago: this one leaves it."""
    [token] = await stored_token(db)
    writes = count_writes(db)
    token.last_used_at = datetime.now(UTC) - timedelta(seconds=5)
    await TokenUsage(db, interval=60).used(token)
    assert writes == []
    token.last_used_at = datetime.now(UTC) - timedelta(seconds=61)
    await TokenUsage(db, interval=60).used(token)
    assert len(writes) == 1


async def test_old_entries_are_forgotten(db: Database) -> None:
    tokens = await stored_token(db, 3)
    usage = TokenUsage(db, interval=0.05)
    usage._written.update({-i: 0.0 for i in range(1, 1100)})  # long-gone uses of other tokens
    for token in tokens:
        await usage.used(token)
    assert set(usage._written) == {token.id for token in tokens}


async def test_a_failed_write_is_logged_not_raised(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A database without the table (any write failure): the use goes on."""
    broken = Database(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    try:
        token = ApiToken(id=7, user_id=1, name="t", secret_hash="0" * 64, created_at=datetime.now(UTC))
        with caplog.at_level(logging.WARNING, logger="api.tokens.usage"):
            await TokenUsage(broken).used(token)
        assert "recording the use of API token 7 failed" in caplog.text
    finally:
        await broken.dispose()
