"""Seqs under concurrent sends: exactly 1..n per room, no gap, no duplicate, on every database."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from api.messages.models import Message
from tests.factories import Account, create_room
from tests.rooms.helpers import NewAccount, add_members, context_of


async def post(client: httpx.AsyncClient, account: Account, room_id: int, body: str) -> dict[str, Any]:
    response = await client.post(
        f"/api/rooms/{room_id}/messages", json={"body": body}, headers=account.headers
    )
    assert response.status_code == 201, response.text
    message: dict[str, Any] = response.json()
    return message


async def stored_seqs(app: FastAPI) -> dict[int, list[int]]:
    async with context_of(app).db.session() as session:
        rows = (await session.execute(select(Message.room_id, Message.seq).order_by(Message.seq))).all()
    seqs: dict[int, list[int]] = {}
    for room_id, seq in rows:
        seqs.setdefault(room_id, []).append(seq)
    return seqs


async def test_a_hundred_concurrent_sends_get_seqs_one_to_a_hundred(
    client: httpx.AsyncClient, app: FastAPI, new_account: NewAccount
) -> None:
    owner = await new_account()
    room = await create_room(client, owner)
    members = [owner, *[await new_account() for _ in range(4)]]
    await add_members(app, room["id"], members[1:])
    sent = await asyncio.gather(
        *(post(client, members[i % len(members)], room["id"], f"message {i}") for i in range(100))
    )
    assert sorted(m["seq"] for m in sent) == list(range(1, 101))
    assert len({m["id"] for m in sent}) == 100
    assert (await stored_seqs(app)) == {room["id"]: list(range(1, 101))}
    bodies = {m["seq"]: m["body"] for m in sent}
    history = await client.get(f"/api/rooms/{room['id']}/messages?limit=200", headers=owner.headers)
    assert [(m["seq"], m["body"]) for m in history.json()["messages"]] == sorted(bodies.items())
    read = await client.get(f"/api/rooms/{room['id']}", headers=owner.headers)
    assert read.json()["last_seq"] == 100


async def test_concurrent_sends_over_five_rooms_number_each_room_from_one(
    client: httpx.AsyncClient, app: FastAPI, new_account: NewAccount
) -> None:
    accounts = [await new_account() for _ in range(5)]
    rooms = [await create_room(client, account) for account in accounts]
    for owner, room in zip(accounts, rooms, strict=True):
        await add_members(app, room["id"], [a for a in accounts if a is not owner])
    # Uneven on purpose, and interleaved, so rooms share batches.
    counts = [35, 25, 20, 12, 8]
    sends = [(accounts[i % 5], room["id"]) for room, k in zip(rooms, counts, strict=True) for i in range(k)]
    random.Random(7).shuffle(sends)
    sent = await asyncio.gather(
        *(post(client, who, room_id, f"m{i}") for i, (who, room_id) in enumerate(sends))
    )
    expected = {room["id"]: list(range(1, k + 1)) for room, k in zip(rooms, counts, strict=True)}
    assert (await stored_seqs(app)) == expected
    for room_id, seqs in expected.items():
        assert sorted(m["seq"] for m in sent if m["room_id"] == room_id) == seqs


async def test_a_burst_of_writing_requests_does_not_exhaust_the_pools(
    client: httpx.AsyncClient, new_account: NewAccount
) -> None:
    """More concurrent writes than either pool has connections: all succeed, none waits out a timeout."""
    owner = await new_account()
    rooms = [await create_room(client, owner) for _ in range(40)]
    people = [await new_account() for _ in range(40)]
    responses = await asyncio.gather(
        *(
            client.post(f"/api/rooms/{room['id']}/join", headers=person.headers)
            for room, person in zip(rooms, people, strict=True)
        )
    )
    assert [r.status_code for r in responses] == [200] * 40
