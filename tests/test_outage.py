"""A database that goes away for real (PostgreSQL behind a proxy the test cuts): readiness
says so, requests get 503 rather than 500, and everything works again when it is back."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import make_url

from api.main import create_app
from tests.conftest import MigratedDatabase, make_settings
from tests.factories import signup
from tests.servers import CuttableProxy


@pytest.fixture
async def proxied_url(
    test_database: MigratedDatabase, database_url: str
) -> AsyncIterator[tuple[str, CuttableProxy]]:
    if test_database.kind != "postgresql":
        pytest.skip("a network outage needs a database across the network (run with --db postgresql)")
    url = make_url(database_url)
    proxy = CuttableProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    yield url.set(port=proxy.port).render_as_string(hide_password=False), proxy
    with contextlib.suppress(Exception):
        await proxy.cut()


async def test_losing_the_database_is_a_503_and_recovers(
    proxied_url: tuple[str, CuttableProxy], tmp_path: Path
) -> None:
    url, proxy = proxied_url
    app = create_app(make_settings(url, tmp_path))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hubbub.test") as client:
            ada = await signup(client, "ada")
            assert (await client.get("/readyz")).status_code == 200
            await proxy.cut()
            ready = await client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["database"].startswith("unreachable")
            me = await client.get("/api/users/me", headers=ada.headers)
            assert me.status_code == 503
            sent = await client.post("/api/rooms", json={"name": "x"}, headers=ada.headers)
            assert sent.status_code == 503
            await proxy.start()  # the database is back, on the same port
            assert (await client.get("/readyz")).status_code == 200
            assert (await client.get("/api/users/me", headers=ada.headers)).status_code == 200
