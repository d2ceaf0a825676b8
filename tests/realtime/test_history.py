"""History on join and `since` replay: exact, with no gap and no duplicate."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI
from sqlalchemy import insert, update

from api.context import AppContext
from api.messages.models import Message
from api.rooms.models import Room
from tests.factories import Account, create_room, send, signup
from tests.realtime.client import joined, pair_in_room
from tests.servers import LiveServer


async def fill(app: FastAPI | None, room_id: int, author: Account, count: int) -> None:
    """`count` messages stored directly, as a busy room would have them."""
    assert app is not None
    context: AppContext = app.state.context
    async with context.db.writing() as session:
        await session.execute(
            insert(Message),
            [
                {"room_id": room_id, "seq": seq, "rev": seq, "author_id": author.id, "body": f"m{seq}"}
                for seq in range(1, count + 1)
            ],
        )
        await session.execute(update(Room).where(Room.id == room_id).values(last_seq=count, last_rev=count))


async def test_joining_sends_the_newest_50(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    ada = await signup(http, "ada")
    room_id = (await create_room(http, ada))["id"]
    await fill(live_server.app, room_id, ada, 120)
    async with joined(live_server, ada, room_id) as client:
        history = client.history
        assert history is not None
        assert [m["seq"] for m in history["messages"]] == list(range(71, 121))
        assert history["last_seq"] == 120
        assert history["truncated"] is True


async def test_a_small_room_is_not_truncated(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    ada = await signup(http, "ada")
    room_id = (await create_room(http, ada))["id"]
    await fill(live_server.app, room_id, ada, 50)
    async with joined(live_server, ada, room_id) as client:
        assert client.history is not None
        assert len(client.history["messages"]) == 50
        assert client.history["truncated"] is False


async def test_since_replays_everything_after_it(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    ada = await signup(http, "ada")
    room_id = (await create_room(http, ada))["id"]
    await fill(live_server.app, room_id, ada, 300)
    async with joined(live_server, ada, room_id, since=120) as client:
        assert client.history is not None
        assert [m["seq"] for m in client.history["messages"]] == list(range(121, 301))
        assert (client.history["last_seq"], client.history["truncated"]) == (300, False)
    async with joined(live_server, ada, room_id, since=300) as client:
        assert client.history == {
            "type": "history",
            "room_id": room_id,
            "messages": [],
            "last_seq": 300,
            "last_rev": 300,
            "truncated": False,
        }
    async with joined(live_server, ada, room_id, since=5000) as client:
        # A since from the future: nothing to replay, and live delivery starts at the real end.
        assert client.history is not None and client.history["last_seq"] == 300
        await client.say("next")
        assert (await client.recv_type("message"))["message"]["seq"] == 301


async def test_since_beyond_1000_sends_the_newest_1000_truncated(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    ada = await signup(http, "ada")
    room_id = (await create_room(http, ada))["id"]
    await fill(live_server.app, room_id, ada, 1500)
    async with joined(live_server, ada, room_id, since=100) as client:
        assert client.history is not None
        seqs = [m["seq"] for m in client.history["messages"]]
        assert seqs == list(range(501, 1501))
        assert client.history["truncated"] is True
    # The client pages the rest over HTTP with `before`.
    page = await http.get(f"/api/rooms/{room_id}/messages?before=501&limit=200", headers=ada.headers)
    assert [m["seq"] for m in page.json()["messages"]] == list(range(301, 501))


async def test_a_reconnecting_client_misses_nothing_and_sees_nothing_twice(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    ada, bob, room_id = await pair_in_room(http)
    seen: list[int] = []
    async with joined(live_server, ada, room_id) as client:
        for index in range(5):
            await send(http, bob, room_id, f"before {index}")
        seen += [m["seq"] for m in await client.messages(5)]
    # Disconnected: bob keeps talking.
    for index in range(7):
        await send(http, bob, room_id, f"while away {index}")
    async with joined(live_server, ada, room_id, since=seen[-1]) as client:
        assert client.history is not None
        seen += [m["seq"] for m in client.history["messages"]]
        await send(http, bob, room_id, "after")
        seen += [m["seq"] for m in await client.messages(1)]
        await client.expect_silence()
    assert seen == list(range(1, 14))


async def test_messages_sent_during_the_join_are_delivered_once(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    """Subscribe, then query, then drop duplicates: a steady stream during many joins leaves no gap."""
    ada, bob, room_id = await pair_in_room(http)
    stop = asyncio.Event()

    async def talk() -> int:
        count = 0
        while not stop.is_set():
            await send(http, bob, room_id, f"stream {count}")
            count += 1
        return count

    talker = asyncio.create_task(talk())
    await asyncio.sleep(0.05)
    results: list[list[int]] = []
    for _ in range(5):
        async with joined(live_server, ada, room_id, since=0) as client:
            assert client.history is not None
            seqs = [m["seq"] for m in client.history["messages"]]
            live = await client.messages(3)
            seqs += [m["seq"] for m in live]
            results.append(seqs)
    stop.set()
    await talker
    for seqs in results:
        assert seqs == list(range(1, len(seqs) + 1)), seqs


async def test_history_frames_carry_exactly_what_rest_returns(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    """The join path builds payloads without models: they must match the REST schema to the byte."""
    ada, bob, room_id = await pair_in_room(http)
    for index in range(4):
        await send(http, bob if index % 2 else ada, room_id, f"<i>{index}</i> é 🙂", nonce=f"n{index}")
    await http.patch(f"/api/rooms/{room_id}/messages/2", json={"body": "edited"}, headers=bob.headers)
    await http.delete(f"/api/rooms/{room_id}/messages/3", headers=ada.headers)
    rest = (await http.get(f"/api/rooms/{room_id}/messages", headers=ada.headers)).json()["messages"]
    async with joined(live_server, ada, room_id) as client:
        assert client.history is not None
        assert client.history["messages"] == rest
    async with joined(live_server, ada, room_id, since=1) as client:
        assert client.history is not None
        assert client.history["messages"] == rest[1:]
