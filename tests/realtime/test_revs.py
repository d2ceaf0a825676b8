"""`rev`: every change to a room's messages is numbered, `changes` pages them, and a client
that reconnects with `since_rev` misses no message, edit or delete."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import Account, create_room, send, signup
from tests.realtime.client import joined, pair_in_room, refused, room_path
from tests.realtime.test_history import fill
from tests.servers import LiveServer


async def changes(http: httpx.AsyncClient, who: Account, room_id: int, **query: Any) -> httpx.Response:
    return await http.get(f"/api/rooms/{room_id}/changes", params=query, headers=who.headers)


async def edit(http: httpx.AsyncClient, who: Account, room_id: int, seq: int, body: str) -> dict[str, Any]:
    response = await http.patch(
        f"/api/rooms/{room_id}/messages/{seq}", json={"body": body}, headers=who.headers
    )
    assert response.status_code == 200, response.text
    edited: dict[str, Any] = response.json()
    return edited


async def delete(http: httpx.AsyncClient, who: Account, room_id: int, seq: int) -> None:
    response = await http.delete(f"/api/rooms/{room_id}/messages/{seq}", headers=who.headers)
    assert response.status_code == 204, response.text


async def test_every_change_takes_the_next_rev(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    ada, bob, room_id = await pair_in_room(http)
    first = await send(http, ada, room_id, "one")
    second = await send(http, bob, room_id, "two")
    assert (first["rev"], second["rev"]) == (1, 2)
    assert (await edit(http, ada, room_id, 1, "one!"))["rev"] == 3
    await delete(http, bob, room_id, 2)
    await delete(http, bob, room_id, 2)  # deleting again is no change: no rev
    room = (await http.get(f"/api/rooms/{room_id}", headers=ada.headers)).json()
    assert (room["last_seq"], room["last_rev"]) == (2, 4)
    page = (await changes(http, ada, room_id)).json()
    assert [(m["seq"], m["rev"], m["deleted"]) for m in page["messages"]] == [(1, 3, False), (2, 4, True)]
    assert (page["last_rev"], page["has_more"]) == (4, False)


async def test_refused_changes_take_no_rev(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    ada, bob, room_id = await pair_in_room(http)
    await send(http, ada, room_id, "one")
    not_yours = await http.patch(f"/api/rooms/{room_id}/messages/1", json={"body": "x"}, headers=bob.headers)
    assert not_yours.status_code == 403
    await delete(http, ada, room_id, 1)
    gone = await http.patch(f"/api/rooms/{room_id}/messages/1", json={"body": "x"}, headers=ada.headers)
    assert gone.status_code == 409
    assert (await send(http, ada, room_id, "two"))["rev"] == 3


async def test_changes_pages_ascending_by_rev(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    ada = await signup(http, "ada")
    room_id = (await create_room(http, ada))["id"]
    await fill(live_server.app, room_id, ada, 30)
    await edit(http, ada, room_id, 5, "five, edited")  # rev 31
    seen: list[int] = []
    after = 0
    while True:
        page = (await changes(http, ada, room_id, after_rev=after, limit=7)).json()
        seen += [m["rev"] for m in page["messages"]]
        assert page["last_rev"] == 31
        if not page["has_more"]:
            break
        after = page["messages"][-1]["rev"]
    # Message 5 appears once, in its current state, at the rev of its latest change.
    assert seen == [*range(1, 5), *range(6, 32)]
    assert (await changes(http, ada, room_id, after_rev=31)).json() == {
        "messages": [],
        "last_rev": 31,
        "has_more": False,
    }
    beyond = (await changes(http, ada, room_id, after_rev=10_000)).json()
    assert beyond["messages"] == [] and beyond["last_rev"] == 31


@pytest.mark.parametrize(
    "query",
    [
        {"after_rev": -1},
        {"after_rev": "x"},
        {"after_rev": "1.5"},
        {"limit": 0},
        {"limit": 501},
        {"limit": "many"},
    ],
)
async def test_changes_refuses_bad_parameters(
    live_server: LiveServer, http: httpx.AsyncClient, query: dict[str, Any]
) -> None:
    ada = await signup(http, "ada")
    room_id = (await create_room(http, ada))["id"]
    assert (await changes(http, ada, room_id, **query)).status_code == 422


async def test_changes_follows_the_visibility_rule(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    ada, eve = await signup(http, "ada"), await signup(http, "eve")
    public = (await create_room(http, ada))["id"]
    private = (await create_room(http, ada, private=True))["id"]
    assert (await changes(http, eve, public)).status_code == 403
    assert (await changes(http, eve, private)).status_code == 404
    assert (await changes(http, eve, 999_999)).status_code == 404
    assert (await http.get(f"/api/rooms/{public}/changes")).status_code == 401


async def test_since_rev_replays_edits_and_deletes_missed_while_away(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    ada, bob, room_id = await pair_in_room(http)
    for body in ("one", "two", "three"):
        await send(http, ada, room_id, body)
    async with joined(live_server, bob, room_id) as client:
        assert client.history is not None
        seen = client.history["last_rev"]
    assert seen == 3
    # While bob is away: an edit, a delete and a new message.
    await edit(http, ada, room_id, 1, "one, edited")
    await delete(http, ada, room_id, 2)
    await send(http, ada, room_id, "four")
    async with joined(live_server, bob, room_id, since_rev=seen) as client:
        history = client.history
        assert history is not None
        assert [(m["seq"], m["rev"]) for m in history["messages"]] == [(1, 4), (2, 5), (4, 6)]
        assert history["messages"][0]["body"] == "one, edited"
        assert history["messages"][1]["deleted"] is True
        assert (history["last_rev"], history["last_seq"], history["truncated"]) == (6, 4, False)
        # Live frames follow from there, each with its rev.
        await edit(http, ada, room_id, 4, "four!")
        frame = await client.recv_type("edit")
        assert frame["rev"] == frame["message"]["rev"] == 7


async def test_since_rev_sends_the_first_1000_truncated(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    ada = await signup(http, "ada")
    room_id = (await create_room(http, ada))["id"]
    await fill(live_server.app, room_id, ada, 1200)
    async with joined(live_server, ada, room_id, since_rev=100) as client:
        history = client.history
        assert history is not None
        revs = [m["rev"] for m in history["messages"]]
        assert revs == list(range(101, 1101))
        assert (history["truncated"], history["last_rev"]) == (True, 1200)
    async with joined(live_server, ada, room_id, since_rev=5000) as client:
        assert client.history is not None
        assert (client.history["messages"], client.history["last_rev"]) == ([], 1200)


@pytest.mark.parametrize(
    "query",
    ["since=1&since_rev=1", "since_rev=-1", "since_rev=x", "since_rev=", "since_rev=99999999999999999999"],
)
async def test_bad_since_rev_is_refused(live_server: LiveServer, http: httpx.AsyncClient, query: str) -> None:
    ada = await signup(http, "ada")
    room_id = (await create_room(http, ada))["id"]
    path = room_path(room_id, ada.token) + "&" + query
    assert await refused(live_server, path) == (1008, "invalid_parameter")
