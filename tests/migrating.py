"""For the tests of single migrations: an empty database of the run's kind, and raw SQL on it."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import Script, ScriptDirectory
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from api.migrate import alembic_config
from tests.conftest import POSTGRES_ADMIN_URL, _asyncpg_dsn, _execute, unavailable


def migration(file_suffix: str) -> Script:
    """The migration whose file name ends in `file_suffix`: tests find it by what it does, so
    renumbering the chain changes nothing in them."""
    scripts = ScriptDirectory.from_config(alembic_config(""))
    [script] = [s for s in scripts.walk_revisions() if s.path.endswith(file_suffix)]
    return script


@pytest.fixture
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.config.getoption("--db") == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/migrating.db"
        return
    name = f"hubbub_migrate_{secrets.token_hex(4)}"
    admin_dsn = _asyncpg_dsn(POSTGRES_ADMIN_URL)
    try:
        asyncio.run(_execute(admin_dsn, f'CREATE DATABASE "{name}"'))
    except OSError as exc:
        unavailable(f"PostgreSQL at {POSTGRES_ADMIN_URL} ({exc!r})")
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_execute(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _run(url: str, *statements: str) -> list[list[tuple[object, ...]]]:
    engine = create_async_engine(url)
    try:
        results = []
        async with engine.begin() as connection:
            for statement in statements:
                result = await connection.execute(text(statement))
                results.append([tuple(row) for row in result.all()] if result.returns_rows else [])
        return results
    finally:
        await engine.dispose()


def run(url: str, *statements: str) -> list[list[tuple[object, ...]]]:
    """Each statement in one transaction; the rows each returned."""
    return asyncio.run(_run(url, *statements))
