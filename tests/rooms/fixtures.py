"""Fixtures the REST test packages share; each package's conftest imports them."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.rooms.helpers import Cast, NewAccount, account_factory, refuse_server_errors


@pytest.fixture(autouse=True)
def _no_server_errors(client: httpx.AsyncClient) -> None:
    """Every response in these tests is checked: no input may ever give a 5xx."""
    client.event_hooks["response"].append(refuse_server_errors)


@pytest.fixture
async def cast(client: httpx.AsyncClient, app: FastAPI) -> Cast:
    return await Cast.create(client, app)


@pytest.fixture
def new_account(app: FastAPI) -> NewAccount:
    """Makes users with an access token, stored directly (no signup or login over HTTP)."""
    return account_factory(app)
