"""Calling GET /api/search."""

from __future__ import annotations

from typing import Any

import httpx

from tests.factories import Account


async def search(client: httpx.AsyncClient, who: Account, q: str, **params: Any) -> httpx.Response:
    return await client.get("/api/search", params={"q": q, **params}, headers=who.headers)


async def found(client: httpx.AsyncClient, who: Account, q: str, **params: Any) -> list[str]:
    """The bodies found, newest first."""
    response = await search(client, who, q, **params)
    assert response.status_code == 200, response.text
    return [m["body"] for m in response.json()["messages"]]
