"""Making API tokens over HTTP, and reaching into their rows where a test must (expiry)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update

from api.tokens.models import ApiToken
from tests.factories import Account
from tests.rooms.helpers import context_of


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def make_token(
    http: httpx.AsyncClient, account: Account, name: str = "ci", **body: Any
) -> dict[str, Any]:
    response = await http.post("/api/me/tokens", json={"name": name, **body}, headers=account.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def as_account(account: Account, token: str) -> Account:
    """The same user, holding `token` instead of their access token."""
    return Account(account.id, account.username, token, refresh_token="")


async def set_expiry(app: FastAPI, token_id: int, expires_at: datetime | None) -> None:
    """Expiry is in days; tests move it instead of waiting."""
    async with context_of(app).db.writing() as session:
        await session.execute(update(ApiToken).where(ApiToken.id == token_id).values(expires_at=expires_at))


async def token_row(app: FastAPI, token_id: int) -> ApiToken:
    async with context_of(app).db.session() as session:
        row = await session.scalar(select(ApiToken).where(ApiToken.id == token_id))
    assert row is not None
    return row
