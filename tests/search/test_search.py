"""GET /api/search: what is found, in whose rooms, in what order, page by page."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import update

from api.db import utcnow
from api.messages.models import Message
from api.rooms.models import Room
from api.search import service
from tests.factories import Account, create_room, send
from tests.rooms.helpers import Cast, NewAccount, ban, context_of
from tests.search.helpers import found, search


async def test_words_and_starts_of_words_are_found_ignoring_case(cast: Cast) -> None:
    room = await cast.room()
    for body in ("Rainbow over the BAY", "rain tomorrow", "the brain drain", "sunny bay"):
        await send(cast.client, cast.owner, room["id"], body)
    assert await found(cast.client, cast.member, "rain") == ["rain tomorrow", "Rainbow over the BAY"]
    assert await found(cast.client, cast.member, "RAINB") == ["Rainbow over the BAY"]
    # Not the middle or end of a word: `brain` and `drain` do not contain the word `rain`.
    assert await found(cast.client, cast.member, "ain") == []
    # Every word must match, in any order, anywhere.
    assert await found(cast.client, cast.member, "bay rain") == ["Rainbow over the BAY"]
    assert await found(cast.client, cast.member, "bay sun") == ["sunny bay"]
    assert await found(cast.client, cast.member, "bay snow") == []


async def test_results_have_the_shape_of_history(cast: Cast) -> None:
    room = await cast.room()
    await send(cast.client, cast.owner, room["id"], "shape of things")
    response = await search(cast.client, cast.member, "shape")
    body = response.json()
    assert set(body) == {"messages", "has_more"}
    history = await cast.call("member", "GET", f"/api/rooms/{room['id']}/messages")
    assert body["messages"] == history.json()["messages"]
    assert body["has_more"] is False


async def test_only_the_rooms_the_caller_belongs_to_are_searched(cast: Cast, new_account: NewAccount) -> None:
    public, private = await cast.room(), await cast.room(private=True)
    stranger = await new_account()
    theirs = await create_room(cast.client, stranger)
    await send(cast.client, cast.owner, public["id"], "needle in public")
    await send(cast.client, cast.owner, private["id"], "needle in private")
    await send(cast.client, stranger, theirs["id"], "needle elsewhere")
    assert await found(cast.client, cast.member, "needle") == ["needle in private", "needle in public"]
    assert await found(cast.client, stranger, "needle") == ["needle elsewhere"]
    # Not a member: a public room's messages are not searched, and site admins are no exception.
    assert await found(cast.client, cast.outsider, "needle") == []
    assert await found(cast.client, cast.site_admin, "needle") == []


async def test_a_member_who_leaves_or_is_banned_no_longer_finds_the_room(cast: Cast) -> None:
    room = await cast.room()
    await send(cast.client, cast.owner, room["id"], "meeting notes")
    assert await found(cast.client, cast.target, "meeting") == ["meeting notes"]
    assert (await cast.call("target", "POST", f"/api/rooms/{room['id']}/leave")).status_code == 204
    assert await found(cast.client, cast.target, "meeting") == []
    await ban(cast.client, cast.owner, room["id"], cast.member)
    assert await found(cast.client, cast.member, "meeting") == []


async def test_room_id_narrows_the_search_to_one_room_of_the_callers(
    cast: Cast, new_account: NewAccount
) -> None:
    first, second = await cast.room(), await cast.room(private=True)
    await send(cast.client, cast.owner, first["id"], "topic one")
    await send(cast.client, cast.owner, second["id"], "topic two")
    assert await found(cast.client, cast.member, "topic", room_id=first["id"]) == ["topic one"]
    assert await found(cast.client, cast.member, "topic", room_id=second["id"]) == ["topic two"]
    stranger = await new_account()
    theirs = await create_room(cast.client, stranger)
    # Not one of the caller's: an unknown, malformed, other person's or merely public room.
    for room_id in [
        theirs["id"],
        first["id"],
        "424242",
        "abc",
        "-1",
        "0",
        "1.5",
        "",
        "99999999999999999999",
        "\x00",
    ]:
        response = await search(cast.client, cast.outsider, "topic", room_id=room_id)
        assert response.status_code == 404, room_id
        assert response.json() == {"detail": "Room not found"}
    # A site admin who is not a member is no exception either.
    assert (await search(cast.client, cast.site_admin, "topic", room_id=first["id"])).status_code == 404


async def test_deleted_messages_are_never_found(cast: Cast) -> None:
    room = await cast.room()
    gone = await send(cast.client, cast.member, room["id"], "secret plans")
    await send(cast.client, cast.member, room["id"], "public plans")
    deleted = await cast.call("owner", "DELETE", f"/api/rooms/{room['id']}/messages/{gone['seq']}")
    assert deleted.status_code == 204
    assert await found(cast.client, cast.member, "plans") == ["public plans"]
    assert await found(cast.client, cast.member, "secret") == []


async def test_an_edited_message_is_found_by_its_current_body_only(cast: Cast) -> None:
    room = await cast.room()
    sent = await send(cast.client, cast.member, room["id"], "lunch at noon")
    edited = await cast.call(
        "member", "PATCH", f"/api/rooms/{room['id']}/messages/{sent['seq']}", {"body": "dinner at eight"}
    )
    assert edited.status_code == 200
    assert await found(cast.client, cast.member, "lunch") == []
    assert await found(cast.client, cast.member, "noon") == []
    assert await found(cast.client, cast.member, "dinner eight") == ["dinner at eight"]
    results = (await search(cast.client, cast.member, "dinner")).json()["messages"]
    assert results == [edited.json()]


async def test_a_deleted_room_leaves_nothing_behind(cast: Cast) -> None:
    room, other = await cast.room(), await cast.room()
    await send(cast.client, cast.owner, room["id"], "ephemeral words")
    await send(cast.client, cast.owner, other["id"], "ephemeral but kept")
    assert (await cast.call("owner", "DELETE", f"/api/rooms/{room['id']}")).status_code == 204
    assert await found(cast.client, cast.owner, "ephemeral") == ["ephemeral but kept"]
    # The index forgot them too: a message stored now is found alone.
    await send(cast.client, cast.owner, other["id"], "ephemeral again")
    assert await found(cast.client, cast.owner, "ephemeral") == ["ephemeral again", "ephemeral but kept"]


async def pages(
    client: httpx.AsyncClient, who: Account, q: str, limit: int, **params: Any
) -> list[list[str]]:
    """Every page, following `before` until `has_more` is false."""
    result: list[list[str]] = []
    before: int | None = None
    while True:
        extra = {**params, "limit": limit} | ({"before": before} if before is not None else {})
        response = await search(client, who, q, **extra)
        assert response.status_code == 200, response.text
        body = response.json()
        result.append([m["body"] for m in body["messages"]])
        if not body["has_more"]:
            return result
        before = body["messages"][-1]["id"]


async def test_results_come_newest_first_across_rooms_and_page_with_before(cast: Cast) -> None:
    rooms = [await cast.room(), await cast.room(private=True)]
    for n in range(7):
        await send(cast.client, cast.owner, rooms[n % 2]["id"], f"item {n}")
        await send(cast.client, cast.owner, rooms[n % 2]["id"], f"noise {n}")
    newest = [f"item {n}" for n in reversed(range(7))]
    assert await found(cast.client, cast.member, "item") == newest
    assert await pages(cast.client, cast.member, "item", 3) == [newest[:3], newest[3:6], newest[6:]]
    assert await pages(cast.client, cast.member, "item", 7) == [newest]
    assert await pages(cast.client, cast.member, "item", 1) == [[body] for body in newest]
    odd_room = [f"item {n}" for n in (5, 3, 1)]
    assert await pages(cast.client, cast.member, "item", 2, room_id=rooms[1]["id"]) == [
        odd_room[:2],
        odd_room[2:],
    ]


async def test_before_may_be_any_message_the_caller_can_read(cast: Cast) -> None:
    room = await cast.room()
    sent = [await send(cast.client, cast.owner, room["id"], f"entry {n}") for n in range(3)]
    # A message that does not match, or was deleted, still marks a place.
    other = await send(cast.client, cast.owner, room["id"], "unrelated")
    assert await found(cast.client, cast.member, "entry", before=other["id"]) == [
        "entry 2",
        "entry 1",
        "entry 0",
    ]
    await cast.call("owner", "DELETE", f"/api/rooms/{room['id']}/messages/{sent[2]['seq']}")
    assert await found(cast.client, cast.member, "entry", before=sent[2]["id"]) == ["entry 1", "entry 0"]
    assert await found(cast.client, cast.member, "entry", before=sent[0]["id"]) == []


async def test_before_must_be_a_message_the_caller_can_read(cast: Cast, new_account: NewAccount) -> None:
    room = await cast.room()
    mine = await send(cast.client, cast.owner, room["id"], "visible")
    stranger = await new_account()
    theirs = await send(cast.client, stranger, (await create_room(cast.client, stranger))["id"], "hidden")
    assert (await search(cast.client, cast.member, "visible", before=mine["id"])).status_code == 200
    for before in [
        theirs["id"],
        mine["id"] + 1000,
        "abc",
        "",
        "0",
        "-5",
        "1.5",
        "1e3",
        str(2**63),
        "１",
        "\x00",
    ]:
        response = await search(cast.client, cast.member, "visible", before=before)
        assert response.status_code == 422, before
        assert response.json()["detail"][0]["loc"] == ["query", "before"]
    # The room's public, but outsiders cannot read it: not theirs to page from.
    assert (await search(cast.client, cast.outsider, "visible", before=mine["id"])).status_code == 422


async def test_limit_is_1_to_100_and_defaults_to_20(cast: Cast) -> None:
    room = await cast.room()
    await add_many(cast, room, 101)
    assert len(await found(cast.client, cast.member, "bulk")) == 20
    response = await search(cast.client, cast.member, "bulk", limit=100)
    assert (len(response.json()["messages"]), response.json()["has_more"]) == (100, True)
    response = await search(cast.client, cast.member, "bulk", limit=1)
    assert (len(response.json()["messages"]), response.json()["has_more"]) == (1, True)
    for limit in ["0", "101", "-1", "abc", "", "1.5", str(2**64)]:
        response = await search(cast.client, cast.member, "bulk", limit=limit)
        assert response.status_code == 422, limit
        assert response.json()["detail"][0]["loc"] == ["query", "limit"]


async def add_many(cast: Cast, room: dict[str, Any], count: int) -> None:
    """`count` messages saying `bulk <n>`, stored directly (the index takes them in all the same)."""
    now = utcnow()
    async with context_of(cast.app).db.writing() as session:
        session.add_all(
            Message(
                room_id=room["id"],
                seq=seq,
                rev=seq,
                author_id=cast.owner.id,
                body=f"bulk {seq}",
                created_at=now,
            )
            for seq in range(1, count + 1)
        )
        await session.execute(
            update(Room).where(Room.id == room["id"]).values(last_seq=count, last_rev=count)
        )


async def test_direct_rooms_are_searched_by_their_two_members(cast: Cast) -> None:
    opened = await cast.call("member", "POST", "/api/direct", {"username": cast.target.username})
    room = opened.json()
    await send(cast.client, cast.member, room["id"], "between us")
    assert await found(cast.client, cast.target, "between") == ["between us"]
    assert await found(cast.client, cast.target, "between", room_id=room["id"]) == ["between us"]
    assert await found(cast.client, cast.owner, "between") == []
    assert (await search(cast.client, cast.site_admin, "us", room_id=room["id"])).status_code == 404


async def test_anonymous_and_deactivated_callers_get_401(cast: Cast) -> None:
    for role in ("anonymous", "deactivated"):
        response = await cast.call(role, "GET", "/api/search", params={"q": "x"})
        assert response.status_code == 401, role
        assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_pages_are_the_same_when_matches_lie_beyond_the_recent_window(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL reads the newest RECENT_WINDOW ids one way and older ones another.
    monkeypatch.setattr(service, "RECENT_WINDOW", 3)
    room = await cast.room()
    for n in range(12):
        await send(cast.client, cast.owner, room["id"], f"{'needle' if n % 4 == 0 else 'hay'} {n}")
    assert await found(cast.client, cast.member, "needle") == ["needle 8", "needle 4", "needle 0"]
    assert await pages(cast.client, cast.member, "needle", 1) == [["needle 8"], ["needle 4"], ["needle 0"]]
    assert await pages(cast.client, cast.member, "hay", 4, room_id=room["id"]) == [
        ["hay 11", "hay 10", "hay 9", "hay 7"],
        ["hay 6", "hay 5", "hay 3", "hay 2"],
        ["hay 1"],
    ]
