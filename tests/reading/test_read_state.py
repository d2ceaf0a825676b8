"""Read cursors, unread and mention counts, `/api/me/rooms` and `/api/me/mentions`, over REST."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import Account, create_room, join, send
from tests.rooms.helpers import NewAccount


async def my_rooms(client: httpx.AsyncClient, who: Account) -> dict[int, dict[str, Any]]:
    response = await client.get("/api/me/rooms", headers=who.headers)
    assert response.status_code == 200, response.text
    return {entry["room"]["id"]: entry for entry in response.json()}


async def state(client: httpx.AsyncClient, who: Account, room_id: int) -> tuple[int, int, int]:
    entry = (await my_rooms(client, who))[room_id]
    return entry["read_seq"], entry["unread"], entry["mentions"]


async def read(client: httpx.AsyncClient, who: Account, room_id: int, seq: Any) -> httpx.Response:
    return await client.put(f"/api/rooms/{room_id}/read", json={"seq": seq}, headers=who.headers)


@pytest.fixture
async def ada(new_account: NewAccount) -> Account:
    return await new_account("ada")


@pytest.fixture
async def bob(new_account: NewAccount) -> Account:
    return await new_account("bob")


async def test_a_new_membership_has_read_everything_before_it(
    client: httpx.AsyncClient, ada: Account, bob: Account
) -> None:
    room_id = (await create_room(client, ada))["id"]
    for body in ("one", "two", "three"):
        await send(client, ada, room_id, body)
    await join(client, bob, room_id)
    assert await state(client, bob, room_id) == (3, 0, 0)
    await send(client, ada, room_id, "four")
    assert await state(client, bob, room_id) == (3, 1, 0)


async def test_the_cursor_rules(client: httpx.AsyncClient, ada: Account, bob: Account) -> None:
    room_id = (await create_room(client, ada))["id"]
    await join(client, bob, room_id)
    for index in range(5):
        await send(client, ada, room_id, f"m{index}")
    assert await state(client, bob, room_id) == (0, 5, 0)
    moved = await read(client, bob, room_id, 3)
    assert moved.status_code == 200
    assert moved.json() == {"room_id": room_id, "read_seq": 3, "unread": 2, "mentions": 0}
    back = await read(client, bob, room_id, 1)  # never moves back
    assert back.json()["read_seq"] == 3
    beyond = await read(client, bob, room_id, 10**12)  # stops at the newest message
    assert beyond.json() == {"room_id": room_id, "read_seq": 5, "unread": 0, "mentions": 0}
    # Deleted messages and one's own do not count as unread.
    await send(client, ada, room_id, "six")
    await send(client, ada, room_id, "seven")
    assert (await client.delete(f"/api/rooms/{room_id}/messages/6", headers=ada.headers)).status_code == 204
    assert await state(client, bob, room_id) == (5, 1, 0)
    # Sending moves the sender's cursor to their message.
    await send(client, bob, room_id, "mine")
    assert await state(client, bob, room_id) == (8, 0, 0)
    await send(client, ada, room_id, "after")
    assert await state(client, bob, room_id) == (8, 1, 0)


async def test_mentions_count_until_read_and_follow_edits_and_deletes(
    client: httpx.AsyncClient, ada: Account, bob: Account
) -> None:
    room_id = (await create_room(client, ada))["id"]
    await join(client, bob, room_id)
    first = await send(client, ada, room_id, "hi @bob")
    assert first["mentions"] == [bob.id]
    await send(client, ada, room_id, "and @BOB. again, and me @ada")
    await send(client, ada, room_id, "nobody here")
    assert await state(client, bob, room_id) == (0, 3, 2)
    assert await state(client, ada, room_id) == (3, 0, 0)  # mentioning oneself counts for nobody
    edited = await client.patch(
        f"/api/rooms/{room_id}/messages/3", json={"body": "now @bob"}, headers=ada.headers
    )
    assert edited.json()["mentions"] == [bob.id]
    assert await state(client, bob, room_id) == (0, 3, 3)
    await client.patch(f"/api/rooms/{room_id}/messages/1", json={"body": "hi all"}, headers=ada.headers)
    assert await state(client, bob, room_id) == (0, 3, 2)
    await client.delete(f"/api/rooms/{room_id}/messages/2", headers=ada.headers)
    assert await state(client, bob, room_id) == (0, 2, 1)
    await read(client, bob, room_id, 3)
    assert await state(client, bob, room_id) == (3, 0, 0)


async def test_a_mention_must_name_a_member_when_it_is_written(
    client: httpx.AsyncClient, ada: Account, bob: Account, new_account: NewAccount
) -> None:
    carol = await new_account("carol")
    room_id = (await create_room(client, ada))["id"]
    await join(client, bob, room_id)
    sent = await send(client, ada, room_id, "@bob @carol mail@bob.example")
    assert sent["mentions"] == [bob.id]  # carol is no member; an e-mail address is no mention
    await join(client, carol, room_id)
    assert await state(client, carol, room_id) == (1, 0, 0)
    # Fixed at that moment: bob leaving later does not change what the message mentions.
    assert (await client.post(f"/api/rooms/{room_id}/leave", headers=bob.headers)).status_code == 204
    page = (await client.get(f"/api/rooms/{room_id}/messages", headers=ada.headers)).json()
    assert page["messages"][0]["mentions"] == [bob.id]


async def test_my_rooms_lists_newest_activity_first(
    client: httpx.AsyncClient, ada: Account, bob: Account
) -> None:
    quiet = (await create_room(client, ada, "quiet"))["id"]
    busy = (await create_room(client, ada, "busy"))["id"]
    newest = (await create_room(client, ada, "newest"))["id"]
    await create_room(client, bob, "not mine")
    await send(client, ada, busy, "hello")
    order = list(await my_rooms(client, ada))
    assert order == [busy, newest, quiet]  # busy's message is newer than newest's creation
    await send(client, ada, quiet, "now")
    await client.delete(f"/api/rooms/{quiet}/messages/1", headers=ada.headers)  # deleted still counts
    entries = await my_rooms(client, ada)
    assert list(entries) == [quiet, busy, newest]
    assert entries[quiet]["role"] == "owner"
    assert entries[quiet]["room"]["last_seq"] == 1


@pytest.mark.parametrize("seq", [-1, "3", 1.5, True, None, [1]])
async def test_read_refuses_bad_seqs(client: httpx.AsyncClient, ada: Account, seq: Any) -> None:
    room_id = (await create_room(client, ada))["id"]
    assert (await read(client, ada, room_id, seq)).status_code == 422
    missing = await client.put(f"/api/rooms/{room_id}/read", json={}, headers=ada.headers)
    assert missing.status_code == 422


async def test_read_follows_the_visibility_rule(
    client: httpx.AsyncClient, ada: Account, bob: Account
) -> None:
    public = (await create_room(client, ada))["id"]
    private = (await create_room(client, ada, private=True))["id"]
    assert (await read(client, bob, public, 1)).status_code == 403
    assert (await read(client, bob, private, 1)).status_code == 404
    assert (await read(client, bob, 424242, 1)).status_code == 404
    assert (await client.put(f"/api/rooms/{public}/read", json={"seq": 1})).status_code == 401
    assert (await client.get("/api/me/rooms")).status_code == 401


async def test_my_mentions_pages_newest_first(
    client: httpx.AsyncClient, ada: Account, bob: Account, new_account: NewAccount
) -> None:
    room_id = (await create_room(client, ada))["id"]
    other = (await create_room(client, ada))["id"]
    await join(client, bob, room_id)
    await join(client, bob, other)
    sent = [await send(client, ada, room_id if i % 2 else other, f"@bob number {i}") for i in range(5)]
    await send(client, bob, room_id, "@bob talking to myself")
    await client.delete(f"/api/rooms/{room_id}/messages/{sent[3]['seq']}", headers=ada.headers)
    seen: list[int] = []
    before = None
    while True:
        params = {"limit": 2, **({"before": before} if before else {})}
        page = (await client.get("/api/me/mentions", params=params, headers=bob.headers)).json()
        seen += [m["id"] for m in page["messages"]]
        if not page["has_more"]:
            break
        before = page["messages"][-1]["id"]
    assert seen == [sent[i]["id"] for i in (4, 2, 1, 0)]
    # Rooms one has left no longer show.
    assert (await client.post(f"/api/rooms/{other}/leave", headers=bob.headers)).status_code == 204
    page = (await client.get("/api/me/mentions", headers=bob.headers)).json()
    assert [m["id"] for m in page["messages"]] == [sent[1]["id"]]


@pytest.mark.parametrize(
    "query", [{"limit": 0}, {"limit": 101}, {"before": 0}, {"before": "x"}, {"before": -3}]
)
async def test_my_mentions_refuses_bad_parameters(
    client: httpx.AsyncClient, ada: Account, query: dict[str, Any]
) -> None:
    assert (await client.get("/api/me/mentions", params=query, headers=ada.headers)).status_code == 422
