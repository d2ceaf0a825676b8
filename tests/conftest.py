"""Fixtures: a migrated database per test (SQLite or PostgreSQL), a fresh app, clients.

`pytest` runs on SQLite; `pytest --db postgresql` on a PostgreSQL database created
for the run and dropped after it. With CI=true an unreachable PostgreSQL or Redis
fails the run instead of skipping.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI
from sqlalchemy import make_url

from api.config import Settings
from api.main import create_app
from api.migrate import upgrade
from api.models import Base
from tests.servers import LiveServer, serve_in_process

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--db", choices=["sqlite", "postgresql"], default="sqlite", help="database to test on")


def unavailable(what: str) -> None:
    """Skip on a developer's machine; fail in CI, where the service must be there."""
    if IN_CI:
        pytest.fail(f"{what} is unreachable, and CI must test it", pytrace=False)
    pytest.skip(f"{what} is unreachable")


# --- databases -------------------------------------------------------------------


class MigratedDatabase:
    """A migrated database, and how to give each test a clean copy of it."""

    def __init__(self, kind: str, template_url: str) -> None:
        self.kind = kind
        self.template_url = template_url

    def url_for(self, tmp_path: Path) -> str:
        if self.kind == "sqlite":
            template = make_url(self.template_url).database
            assert template is not None
            copy = tmp_path / "hubbub.db"
            shutil.copyfile(template, copy)
            return f"sqlite+aiosqlite:///{copy}"
        return self.template_url

    async def clean(self) -> None:
        if self.kind != "postgresql":
            return
        tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
        connection = await asyncpg.connect(_asyncpg_dsn(self.template_url))
        try:
            await connection.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        finally:
            await connection.close()


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def test_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MigratedDatabase]:
    kind = request.config.getoption("--db")
    if kind == "sqlite":
        path = tmp_path_factory.mktemp("template") / "template.db"
        url = f"sqlite+aiosqlite:///{path}"
        upgrade(url)
        yield MigratedDatabase("sqlite", url)
        return
    name = f"hubbub_test_{secrets.token_hex(4)}"
    admin_dsn = _asyncpg_dsn(POSTGRES_ADMIN_URL)
    try:
        asyncio.run(_execute(admin_dsn, f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        unavailable(f"PostgreSQL at {POSTGRES_ADMIN_URL} ({exc!r})")
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield MigratedDatabase("postgresql", url)
    finally:
        asyncio.run(_execute(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _execute(dsn: str, statement: str) -> None:
    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture
async def database_url(test_database: MigratedDatabase, tmp_path: Path) -> str:
    await test_database.clean()
    return test_database.url_for(tmp_path)


# --- settings and apps ------------------------------------------------------------


def make_settings(database_url: str, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "data_dir": tmp_path / "var",
        "secret_key": "test-secret-" + "x" * 40,
        # Cheap hashing keeps the suite fast; test_passwords checks the real defaults.
        "password_memory_kib": 64,
        "password_time_cost": 1,
        "send_rate": 0,
        "shutdown_grace_seconds": 2,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hubbub.test") as http:
        yield http


@pytest.fixture
async def live_server(settings: Settings) -> AsyncIterator[LiveServer]:
    """A real Uvicorn server, in this event loop, on a free port."""
    async with serve_in_process(settings) as server:
        yield server


# --- Redis ------------------------------------------------------------------------------


def worker_redis_url(worker_id: str) -> str:
    """TEST_REDIS_URL's database for the main process; each pytest-xdist worker (gw0, gw1, ...)
    takes the databases below it, so parallel tests never flush each other's keys."""
    if not worker_id.startswith("gw"):
        return REDIS_URL
    base, _, number = REDIS_URL.rpartition("/")
    database = int(number or 0) - int(worker_id[2:])
    if database < 0:
        raise RuntimeError(f"not enough Redis databases below {REDIS_URL} for worker {worker_id}")
    return f"{base}/{database}"


@pytest.fixture
async def redis_url(worker_id: str) -> AsyncIterator[str]:
    url = worker_redis_url(worker_id)
    client = aioredis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        await client.flushdb()
    except (OSError, aioredis.ConnectionError) as exc:
        await client.aclose()
        unavailable(f"Redis at {url} ({exc!r})")
    yield url
    await client.flushdb()
    await client.aclose()
