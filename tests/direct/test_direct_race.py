"""Both people opening their direct room at the same moment, through two app instances (two
workers' worth of connection pools and writers) on one database: one room, one 201."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from api.config import Settings
from api.main import create_app
from api.rooms.models import Room
from tests.rooms.helpers import NewAccount, context_of

ROUNDS = 8


@pytest.fixture
async def second_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """Another app on the same database, as another worker process would be."""
    other = create_app(settings)
    async with other.router.lifespan_context(other):
        transport = httpx.ASGITransport(app=other)
        async with httpx.AsyncClient(transport=transport, base_url="http://hubbub.test") as http:
            yield http


async def test_two_people_opening_at_once_get_one_room(
    app: FastAPI, client: httpx.AsyncClient, second_client: httpx.AsyncClient, new_account: NewAccount
) -> None:
    for _ in range(ROUNDS):
        ada, bob = await new_account(), await new_account()
        responses = await asyncio.gather(
            client.post("/api/direct", json={"username": bob.username}, headers=ada.headers),
            second_client.post("/api/direct", json={"username": ada.username}, headers=bob.headers),
            client.post("/api/direct", json={"username": bob.username.upper()}, headers=ada.headers),
            second_client.post("/api/direct", json={"username": ada.username}, headers=bob.headers),
        )
        assert sorted(r.status_code for r in responses) == [200, 200, 200, 201], [r.text for r in responses]
        assert len({r.json()["id"] for r in responses}) == 1
        low, high = sorted((ada.id, bob.id))
        async with context_of(app).db.session() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(Room)
                .where(Room.direct_low_id == low, Room.direct_high_id == high)
            )
        assert count == 1
        members = await client.get(f"/api/rooms/{responses[0].json()['id']}/members", headers=bob.headers)
        assert sorted(m["user"]["id"] for m in members.json()) == [low, high]
