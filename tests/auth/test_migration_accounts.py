"""The accounts migration on a database holding data from the revision before it: every
existing login becomes a session, its tokens keep working, and the way down keeps the data."""

from __future__ import annotations

import asyncio
import importlib.util
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from alembic import command
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from api.auth.tokens import TokenType, issue_token
from api.config import Settings
from api.main import create_app
from api.migrate import alembic_config, upgrade
from tests.conftest import POSTGRES_ADMIN_URL, MigratedDatabase, _asyncpg_dsn, _execute, make_settings

MIGRATION = Path(__file__).resolve().parents[2] / "migrations/versions/0005_private_server_accounts.py"
T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def as_utc(value: object) -> datetime:
    """A stored time as PostgreSQL (a datetime) or SQLite (text) hands it back."""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(when, datetime)
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def migration() -> ModuleType:
    spec = importlib.util.spec_from_file_location("accounts_migration", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def execute(url: str, *statements: tuple[str, dict[str, object]]) -> list[list[tuple[object, ...]]]:
    engine = create_async_engine(url)
    results = []
    try:
        async with engine.begin() as connection:
            for statement, values in statements:
                result = await connection.execute(text(statement), values)
                results.append([tuple(row) for row in result.all()] if result.returns_rows else [])
    finally:
        await engine.dispose()
    return results


@pytest.fixture
def empty_url(test_database: MigratedDatabase, tmp_path: Path) -> Iterator[str]:
    """A database of its own, with no tables yet, on the backend under test."""
    if test_database.kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrate.db'}"
        return
    name = f"hubbub_migrate_{secrets.token_hex(4)}"
    admin_dsn = _asyncpg_dsn(POSTGRES_ADMIN_URL)
    asyncio.run(_execute(admin_dsn, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_execute(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def fill_previous_revision(url: str, key: str) -> str:
    """Users and two logins (one refreshed once) as the revision before stored them; the
    refresh token of the live login."""
    refresh, claims = issue_token(key=key, user_id=1, type=TokenType.refresh, lifetime=timedelta(days=14))
    user = (
        "INSERT INTO users (id, username, username_key, display_name, password_hash, is_admin, is_active, "
        "created_at) VALUES (:id, :name, :key, :name, '!', false, true, :at)"
    )
    token = (
        "INSERT INTO refresh_tokens (user_id, family, jti_hash, issued_at, expires_at, spent_at, revoked_at) "
        "VALUES (:user, :family, :jti, :issued, :expires, :spent, NULL)"
    )
    future = datetime.now(UTC) + timedelta(days=14)
    await execute(
        url,
        (user, {"id": 1, "name": "ada", "key": "ada", "at": T0}),
        (user, {"id": 2, "name": "bob", "key": "bob", "at": T0}),
        (
            token,
            {"user": 1, "family": "f" * 32, "jti": "a" * 64, "issued": T0, "expires": future, "spent": T0},
        ),
        (
            token,
            {
                "user": 1,
                "family": "f" * 32,
                "jti": claims.jti_hash,
                "issued": T0 + timedelta(hours=1),
                "expires": future,
                "spent": None,
            },
        ),
        (
            token,
            {"user": 2, "family": "b" * 32, "jti": "b" * 64, "issued": T0, "expires": future, "spent": None},
        ),
        ("INSERT INTO login_failures (username_key, failed_at) VALUES ('ada', :at)", {"at": T0}),
    )
    return refresh


def test_existing_logins_become_sessions_and_the_way_down_keeps_the_data(
    empty_url: str, tmp_path: Path
) -> None:
    # Alembic runs its own event loop, so this test is synchronous and runs each async step.
    module = migration()
    upgrade(empty_url, module.down_revision)
    settings = make_settings(empty_url, tmp_path)
    refresh = asyncio.run(fill_previous_revision(empty_url, settings.signing_key))

    upgrade(empty_url, module.revision)
    query = "SELECT user_id, family, user_agent, created_at, last_used_at FROM login_sessions ORDER BY id"
    (sessions,) = asyncio.run(execute(empty_url, (query, {})))
    assert [(s[0], s[1], s[2]) for s in sessions] == [(1, "f" * 32, None), (2, "b" * 32, None)]
    # Created at the login's first token, last used at its newest.
    assert (as_utc(sessions[0][3]), as_utc(sessions[0][4])) == (T0, T0 + timedelta(hours=1))

    upgrade(empty_url)  # and whatever revisions come after it
    asyncio.run(_the_old_login_goes_on(settings, refresh))

    command.downgrade(alembic_config(empty_url), module.down_revision)
    users, tokens, failures = asyncio.run(
        execute(
            empty_url,
            ("SELECT username FROM users ORDER BY id", {}),
            ("SELECT family FROM refresh_tokens ORDER BY id", {}),
            ("SELECT username_key FROM login_failures", {}),
        )
    )
    assert users == [("ada",), ("bob",)]
    assert tokens == [("f" * 32,), ("f" * 32,), ("b" * 32,), ("f" * 32,)]  # the refresh's token too
    assert failures == [("ada",)]
    upgrade(empty_url)


async def _the_old_login_goes_on(settings: Settings, refresh: str) -> None:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hubbub.test") as http:
            renewed = await http.post("/api/auth/refresh", json={"refresh_token": refresh})
            assert renewed.status_code == 200, renewed.text
            access = renewed.json()["access_token"]
            listed = await http.get("/api/users/me/sessions", headers={"Authorization": f"Bearer {access}"})
    assert [(s["current"], s["user_agent"]) for s in listed.json()] == [(True, None)]
