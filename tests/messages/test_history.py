"""GET /api/rooms/{room_id}/messages: paging with `before`, `after` and `limit`, and `has_more`."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from api.db import utcnow
from api.messages.models import Message
from api.rooms.models import Room
from tests.factories import Account, create_room, send
from tests.rooms.helpers import NewAccount, context_of

TOTAL = 120


@pytest.fixture
async def ada(client: httpx.AsyncClient, new_account: NewAccount) -> Account:
    return await new_account("ada")


@pytest.fixture
async def room(client: httpx.AsyncClient, app: FastAPI, ada: Account) -> dict[str, Any]:
    """A room with 120 messages, seq n saying `m<n>`, stored directly for speed."""
    room = await create_room(client, ada)
    now = utcnow()
    async with context_of(app).db.writing() as session:
        session.add_all(
            Message(room_id=room["id"], seq=seq, rev=seq, author_id=ada.id, body=f"m{seq}", created_at=now)
            for seq in range(1, TOTAL + 1)
        )
        await session.execute(
            update(Room).where(Room.id == room["id"]).values(last_seq=TOTAL, last_rev=TOTAL)
        )
    return room


async def page(
    client: httpx.AsyncClient, ada: Account, room: dict[str, Any], **params: int
) -> tuple[list[int], bool]:
    response = await client.get(f"/api/rooms/{room['id']}/messages", params=params, headers=ada.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"messages", "has_more"}
    seqs = [m["seq"] for m in body["messages"]]
    assert [m["body"] for m in body["messages"]] == [f"m{seq}" for seq in seqs]
    return seqs, body["has_more"]


def seqs(first: int, last: int) -> list[int]:
    return list(range(first, last + 1))


PAGES: list[tuple[dict[str, int], list[int], bool]] = [
    # Neither: the newest `limit`; has_more means older ones exist.
    ({}, seqs(71, 120), True),
    ({"limit": 1}, [120], True),
    ({"limit": 119}, seqs(2, 120), True),
    ({"limit": 120}, seqs(1, 120), False),
    ({"limit": 200}, seqs(1, 120), False),
    # before=N: the newest `limit` with seq < N; has_more means older ones exist.
    ({"before": 71, "limit": 20}, seqs(51, 70), True),
    ({"before": 22, "limit": 20}, seqs(2, 21), True),
    ({"before": 21, "limit": 20}, seqs(1, 20), False),
    ({"before": 11, "limit": 20}, seqs(1, 10), False),
    ({"before": 2}, [1], False),
    ({"before": 1}, [], False),
    ({"before": 0}, [], False),
    ({"before": 121}, seqs(71, 120), True),
    ({"before": 2**63 - 1, "limit": 200}, seqs(1, 120), False),
    # after=N: the oldest `limit` with seq > N; has_more means newer ones exist.
    ({"after": 0}, seqs(1, 50), True),
    ({"after": 0, "limit": 200}, seqs(1, 120), False),
    ({"after": 50, "limit": 20}, seqs(51, 70), True),
    ({"after": 99, "limit": 20}, seqs(100, 119), True),
    ({"after": 100, "limit": 20}, seqs(101, 120), False),
    ({"after": 119}, [120], False),
    ({"after": 120}, [], False),
    ({"after": 2**63 - 1}, [], False),
]


async def test_each_page_is_what_the_spec_says(
    client: httpx.AsyncClient, ada: Account, room: dict[str, Any]
) -> None:
    for params, expected, has_more in PAGES:
        assert await page(client, ada, room, **params) == (expected, has_more), params


async def test_paging_back_with_before_visits_every_message_once(
    client: httpx.AsyncClient, ada: Account, room: dict[str, Any]
) -> None:
    seen: list[int] = []
    batch, more = await page(client, ada, room, limit=50)
    seen = batch + seen
    while more:
        batch, more = await page(client, ada, room, before=batch[0], limit=50)
        seen = batch + seen
    assert seen == seqs(1, TOTAL)


async def test_paging_forward_with_after_visits_every_message_once(
    client: httpx.AsyncClient, ada: Account, room: dict[str, Any]
) -> None:
    seen: list[int] = []
    batch, more = await page(client, ada, room, after=0, limit=33)
    seen += batch
    while more:
        batch, more = await page(client, ada, room, after=batch[-1], limit=33)
        seen += batch
    assert seen == seqs(1, TOTAL)


async def test_out_of_range_parameters_get_422(
    client: httpx.AsyncClient, ada: Account, room: dict[str, Any]
) -> None:
    for params in [
        {"before": 10, "after": 5},
        {"before": 0, "after": 0},
        {"limit": 0},
        {"limit": 201},
        {"limit": -1},
        {"limit": "ten"},
        {"limit": "1.5"},
        {"before": -1},
        {"after": -1},
        {"before": "abc"},
        {"after": "1.5"},
        {"before": str(2**63)},
        {"after": "99999999999999999999"},
        {"before": ""},
    ]:
        response = await client.get(f"/api/rooms/{room['id']}/messages", params=params, headers=ada.headers)
        assert response.status_code == 422, params


async def test_an_empty_room_has_an_empty_page(client: httpx.AsyncClient, new_account: NewAccount) -> None:
    ada = await new_account()
    room = await create_room(client, ada)
    for params in ({}, {"before": 5}, {"after": 0}):
        response = await client.get(f"/api/rooms/{room['id']}/messages", params=params, headers=ada.headers)
        assert response.json() == {"messages": [], "has_more": False}


async def test_deleted_messages_keep_their_place_in_history(
    client: httpx.AsyncClient, new_account: NewAccount
) -> None:
    ada = await new_account()
    room = await create_room(client, ada)
    for body in ("one", "two", "three"):
        await send(client, ada, room["id"], body)
    await client.delete(f"/api/rooms/{room['id']}/messages/2", headers=ada.headers)
    response = await client.get(f"/api/rooms/{room['id']}/messages", headers=ada.headers)
    messages = response.json()["messages"]
    assert [(m["seq"], m["body"], m["deleted"]) for m in messages] == [
        (1, "one", False),
        (2, "", True),
        (3, "three", False),
    ]
