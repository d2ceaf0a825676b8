"""Apps with their own settings (signup modes, throttles), clients from chosen addresses."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from api.main import create_app
from tests.conftest import make_settings
from tests.factories import PASSWORD, Account
from tests.rooms.helpers import refuse_server_errors, store_accounts


@contextlib.asynccontextmanager
async def running_app(database_url: str, tmp_path: Path, **overrides: Any) -> AsyncIterator[FastAPI]:
    application = create_app(make_settings(database_url, tmp_path, **overrides))
    async with application.router.lifespan_context(application):
        yield application


@contextlib.asynccontextmanager
async def client_from(
    app: FastAPI, address: str = "127.0.0.1", headers: dict[str, str] | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose connection comes from `address`, as the ASGI server would report it."""
    transport = httpx.ASGITransport(app=app, client=(address, 50_000))
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://hubbub.test",
        headers=headers,
        event_hooks={"response": [refuse_server_errors]},
    ) as http:
        yield http


async def site_admin(app: FastAPI, username: str = "root") -> Account:
    (admin,) = await store_accounts(app, [{"username": username, "is_admin": True}])
    return admin


async def signup_status(http: httpx.AsyncClient, username: str, **fields: Any) -> httpx.Response:
    return await http.post("/api/auth/signup", json={"username": username, "password": PASSWORD, **fields})


async def make_invite(http: httpx.AsyncClient, admin: Account, **body: Any) -> dict[str, Any]:
    response = await http.post("/api/admin/invites", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    invite: dict[str, Any] = response.json()
    return invite
