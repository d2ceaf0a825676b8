"""Reactions and replies over REST: the SPEC's rules, hostile emoji, and many people reacting at once."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.factories import Account, create_room, send
from tests.rooms.helpers import Cast, NewAccount, add_members


def reaction_url(room_id: int, seq: int | str, emoji: str) -> str:
    return f"/api/rooms/{room_id}/messages/{seq}/reactions/{quote(emoji, safe='')}"


async def react(
    client: httpx.AsyncClient, who: Account, room_id: int, seq: int | str, emoji: str
) -> httpx.Response:
    return await client.put(reaction_url(room_id, seq, emoji), headers=who.headers)


async def unreact(
    client: httpx.AsyncClient, who: Account, room_id: int, seq: int | str, emoji: str
) -> httpx.Response:
    return await client.delete(reaction_url(room_id, seq, emoji), headers=who.headers)


async def message(client: httpx.AsyncClient, who: Account, room_id: int, seq: int) -> dict[str, Any]:
    response = await client.get(f"/api/rooms/{room_id}/messages/{seq}", headers=who.headers)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def test_reactions_count_people_in_order_of_first_use(cast: Cast) -> None:
    room = await cast.room()
    room_id = room["id"]
    sent = await send(cast.client, cast.owner, room_id, "react to me")
    first = await react(cast.client, cast.member, room_id, 1, "👍")
    assert first.status_code == 200
    assert first.json()["reactions"] == [{"emoji": "👍", "count": 1, "users": [cast.member.id]}]
    assert first.json()["rev"] == sent["rev"] + 1
    again = await react(cast.client, cast.member, room_id, 1, "👍")  # no change: no rev
    assert again.json()["rev"] == first.json()["rev"]
    await react(cast.client, cast.target, room_id, 1, "🎉")
    await react(cast.client, cast.target, room_id, 1, "👍")
    reactions = (await message(cast.client, cast.owner, room_id, 1))["reactions"]
    assert reactions == [
        {"emoji": "👍", "count": 2, "users": [cast.member.id, cast.target.id]},
        {"emoji": "🎉", "count": 1, "users": [cast.target.id]},
    ]
    # The last reaction of an emoji goes: the emoji leaves the list, and comes back last.
    assert (await unreact(cast.client, cast.target, room_id, 1, "🎉")).status_code == 204
    assert (await unreact(cast.client, cast.target, room_id, 1, "🎉")).status_code == 204  # not there
    await unreact(cast.client, cast.member, room_id, 1, "👍")
    await react(cast.client, cast.member, room_id, 1, "🎉")
    shown = await message(cast.client, cast.owner, room_id, 1)
    assert [r["emoji"] for r in shown["reactions"]] == ["👍", "🎉"]
    # Reactions appear everywhere a message does.
    page = (await cast.call("owner", "GET", f"/api/rooms/{room_id}/messages")).json()
    assert page["messages"][0]["reactions"] == shown["reactions"]
    changes = (await cast.call("owner", "GET", f"/api/rooms/{room_id}/changes")).json()
    assert changes["messages"][0]["reactions"] == shown["reactions"]
    assert changes["last_rev"] == shown["rev"]


async def test_deleting_a_message_clears_its_reactions_and_takes_no_more(cast: Cast) -> None:
    room_id = (await cast.room())["id"]
    await send(cast.client, cast.member, room_id, "soon gone")
    await react(cast.client, cast.owner, room_id, 1, "😢")
    assert (await cast.call("member", "DELETE", f"/api/rooms/{room_id}/messages/1")).status_code == 204
    assert (await message(cast.client, cast.owner, room_id, 1))["reactions"] == []
    assert (await react(cast.client, cast.owner, room_id, 1, "😢")).status_code == 409
    assert (await unreact(cast.client, cast.owner, room_id, 1, "😢")).status_code == 409


async def test_a_message_takes_at_most_50_emoji(cast: Cast) -> None:
    room_id = (await cast.room())["id"]
    await send(cast.client, cast.owner, room_id, "so many")
    for index in range(50):
        assert (await react(cast.client, cast.member, room_id, 1, f"e{index}")).status_code == 200
    assert (await react(cast.client, cast.target, room_id, 1, "one-too-many")).status_code == 409
    assert (await react(cast.client, cast.target, room_id, 1, "e7")).status_code == 200  # an existing one


@pytest.mark.parametrize(
    "emoji",
    ["a b", " ", "\t", "x\u00a0y", "a/b", "/", "\x00", "x\x07", "x" * 33, "\u2028", "\x85"],
)
async def test_bad_emoji_are_refused_on_both_verbs(cast: Cast, emoji: str) -> None:
    room_id = (await cast.room())["id"]
    await send(cast.client, cast.owner, room_id, "hi")
    assert (await react(cast.client, cast.member, room_id, 1, emoji)).status_code == 422
    assert (await unreact(cast.client, cast.member, room_id, 1, emoji)).status_code == 422


@pytest.mark.parametrize("emoji", ["👩‍👩‍👧", "+1", "x" * 32, "';DROP_TABLE(messages);--", "%", "🇫🇷", "é"])
async def test_unusual_but_valid_emoji_are_kept_exactly(cast: Cast, emoji: str) -> None:
    room_id = (await cast.room())["id"]
    await send(cast.client, cast.owner, room_id, "hi")
    response = await react(cast.client, cast.member, room_id, 1, emoji)
    assert response.status_code == 200, response.text
    assert response.json()["reactions"][0]["emoji"] == emoji


async def test_reactions_follow_the_permission_rules(cast: Cast) -> None:
    room = await cast.room(private=True)
    room_id = room["id"]
    await send(cast.client, cast.owner, room_id, "members only")
    assert (await cast.call("outsider", "PUT", reaction_url(room_id, 1, "👍"))).status_code == 404
    assert (await cast.call("site_admin", "PUT", reaction_url(room_id, 1, "👍"))).status_code == 403
    assert (await cast.call("anonymous", "PUT", reaction_url(room_id, 1, "👍"))).status_code == 401
    for seq in ("2", "0", "abc", "-1", "99999999999999999999"):
        assert (await cast.call("member", "PUT", reaction_url(room_id, seq, "👍"))).status_code == 404


async def test_reactions_share_the_send_limit(
    client: httpx.AsyncClient, app: Any, new_account: NewAccount
) -> None:
    limiter = app.state.context.send_limiter
    ada = await new_account()
    room_id = (await create_room(client, ada))["id"]
    await send(client, ada, room_id, "hi")
    original = limiter.take

    async def exhausted(user_id: int) -> float:
        return 2.5 if user_id == ada.id else await original(user_id)

    limiter.take = exhausted
    try:
        refused = await react(client, ada, room_id, 1, "👍")
    finally:
        limiter.take = original
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "3"


async def test_many_people_reacting_at_once_are_each_counted_once(
    client: httpx.AsyncClient, app: Any, new_account: NewAccount
) -> None:
    owner = await new_account()
    room_id = (await create_room(client, owner))["id"]
    people = [await new_account() for _ in range(24)]
    await add_members(app, room_id, people)
    await send(client, owner, room_id, "vote")
    responses = await asyncio.gather(
        *(react(client, person, room_id, 1, "👍" if i % 2 else "👎") for i, person in enumerate(people))
    )
    assert all(r.status_code == 200 for r in responses)
    shown = await message(client, owner, room_id, 1)
    counted = {r["emoji"]: sorted(r["users"]) for r in shown["reactions"]}
    assert counted == {
        "👍": sorted(p.id for i, p in enumerate(people) if i % 2),
        "👎": sorted(p.id for i, p in enumerate(people) if not i % 2),
    }
    # Each took one rev: the message's rev is the room's, 24 changes after the send.
    assert shown["rev"] == 25


async def test_a_reply_names_a_message_of_the_same_room(cast: Cast) -> None:
    room_id = (await cast.room())["id"]
    other = (await cast.room())["id"]
    await send(cast.client, cast.owner, room_id, "question")
    await send(cast.client, cast.owner, other, "elsewhere")
    reply = await cast.call(
        "member", "POST", f"/api/rooms/{room_id}/messages", {"body": "answer", "reply_to": 1}
    )
    assert reply.status_code == 201
    assert reply.json()["reply_to"] == 1
    assert (await message(cast.client, cast.owner, room_id, 2))["reply_to"] == 1
    await cast.call("owner", "DELETE", f"/api/rooms/{room_id}/messages/1")
    to_deleted = await cast.call(
        "member", "POST", f"/api/rooms/{room_id}/messages", {"body": "still", "reply_to": 1}
    )
    assert to_deleted.status_code == 201  # deleted messages can be answered
    for reply_to in (4, 99, 0, -1, "1", 1.5, True, 2**63):
        refused = await cast.call(
            "member", "POST", f"/api/rooms/{room_id}/messages", {"body": "x", "reply_to": reply_to}
        )
        assert refused.status_code == 422, (reply_to, refused.text)
    page = (await cast.call("owner", "GET", f"/api/rooms/{room_id}/messages")).json()
    assert [m["seq"] for m in page["messages"]] == [1, 2, 3]  # refused replies took no seq


async def test_one_message_by_its_seq(cast: Cast) -> None:
    room = await cast.room(private=True)
    room_id = room["id"]
    await send(cast.client, cast.owner, room_id, "one")
    shown = await cast.call("member", "GET", f"/api/rooms/{room_id}/messages/1")
    assert shown.status_code == 200 and shown.json()["body"] == "one"
    for seq in ("2", "0", "abc", "1.0", "-1", "%00"):
        assert (await cast.call("member", "GET", f"/api/rooms/{room_id}/messages/{seq}")).status_code == 404
    assert (await cast.call("outsider", "GET", f"/api/rooms/{room_id}/messages/1")).status_code == 404
