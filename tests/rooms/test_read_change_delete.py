"""GET, PATCH and DELETE /api/rooms/{room_id}."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from api.messages.models import Message
from api.rooms.models import Membership, RoomBan
from tests.factories import create_room, send
from tests.rooms.helpers import HOSTILE_TEXTS, Cast, ban, context_of


async def test_reading_a_room_gives_its_current_counts(cast: Cast) -> None:
    room = await cast.room()
    await send(cast.client, cast.member, room["id"], "hello")
    response = await cast.call("outsider", "GET", f"/api/rooms/{room['id']}")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == room["id"]
    assert (body["member_count"], body["last_seq"]) == (5, 1)


async def test_changing_a_room_sets_only_the_fields_given(cast: Cast) -> None:
    room = await cast.room()
    url = f"/api/rooms/{room['id']}"
    changed = await cast.call("admin", "PATCH", url, {"description": "new words"})
    assert changed.status_code == 200
    assert (changed.json()["name"], changed.json()["description"]) == (room["name"], "new words")
    renamed = await cast.call("owner", "PATCH", url, {"name": "  Renamed  ", "is_private": True})
    assert renamed.json()["name"] == "Renamed"
    assert renamed.json()["is_private"] is True
    assert renamed.json()["description"] == "new words"
    assert renamed.json()["member_count"] == 5
    unchanged = await cast.call("site_admin", "PATCH", url, {})
    assert unchanged.status_code == 200
    assert unchanged.json() == renamed.json()
    assert (await cast.call("owner", "GET", url)).json() == renamed.json()
    cleared = await cast.call("owner", "PATCH", url, {"description": ""})
    assert cleared.json()["description"] == ""


async def test_a_room_made_private_disappears_for_outsiders(cast: Cast) -> None:
    room = await cast.room()
    await cast.call("owner", "PATCH", f"/api/rooms/{room['id']}", {"is_private": True})
    assert (await cast.call("outsider", "GET", f"/api/rooms/{room['id']}")).status_code == 404
    listed = await cast.call("outsider", "GET", "/api/rooms")
    assert listed.json() == []


async def test_renaming_to_a_taken_name_is_409_but_a_change_of_case_is_not(cast: Cast) -> None:
    room = await cast.room(name="Alpha")
    await create_room(cast.client, cast.outsider, "Beta")
    url = f"/api/rooms/{room['id']}"
    taken = await cast.call("owner", "PATCH", url, {"name": "BETA"})
    assert taken.status_code == 409
    recased = await cast.call("owner", "PATCH", url, {"name": "ALPHA"})
    assert recased.status_code == 200
    assert recased.json()["name"] == "ALPHA"
    assert (await cast.call("owner", "GET", url)).json()["name"] == "ALPHA"


async def test_hostile_text_round_trips_through_a_change(cast: Cast) -> None:
    room = await cast.room()
    url = f"/api/rooms/{room['id']}"
    for text in HOSTILE_TEXTS:
        response = await cast.call("owner", "PATCH", url, {"description": text})
        assert response.status_code == 200
        assert (await cast.call("member", "GET", url)).json()["description"] == text


INVALID_CHANGES: list[Any] = [
    {"name": ""},
    {"name": "  "},
    {"name": "x" * 65},
    {"name": "İ" * 60},
    {"name": 1},
    {"name": "a\x00b"},
    {"description": "x" * 1001},
    {"description": "\x1b"},
    {"description": ["list"]},
    {"is_private": "maybe"},
    {"is_private": {}},
    [],
    "name",
    42,
]


async def test_invalid_changes_get_422_and_change_nothing(cast: Cast) -> None:
    room = await cast.room()
    url = f"/api/rooms/{room['id']}"
    for body in INVALID_CHANGES:
        response = await cast.call("owner", "PATCH", url, body)
        assert response.status_code == 422, body
    for raw in [b"", b"{", b"not json"]:
        response = await cast.client.patch(
            url, content=raw, headers={**cast.headers("owner"), "Content-Type": "application/json"}
        )
        assert response.status_code == 422, raw
    assert (await cast.call("owner", "GET", url)).json() == room


async def counts(app: FastAPI, room_id: int) -> tuple[int, int, int]:
    async with context_of(app).db.session() as session:
        results = [
            await session.scalar(select(func.count()).select_from(model).where(model.room_id == room_id))
            for model in (Membership, Message, RoomBan)
        ]
    memberships, messages, bans = (count or 0 for count in results)
    return memberships, messages, bans


@pytest.mark.parametrize("who", ["owner", "site_admin"])
async def test_deleting_a_room_takes_its_memberships_messages_and_bans(
    cast: Cast, app: FastAPI, who: str
) -> None:
    room = await cast.room(private=True, name="Doomed")
    other = await cast.room()
    for account in (cast.owner, cast.member):
        await send(cast.client, account, room["id"], "going")
        await send(cast.client, account, other["id"], "staying")
    await ban(cast.client, cast.owner, room["id"], cast.outsider)
    assert await counts(app, room["id"]) == (5, 2, 1)
    response = await cast.call(who, "DELETE", f"/api/rooms/{room['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert await counts(app, room["id"]) == (0, 0, 0)
    assert await counts(app, other["id"]) == (5, 2, 0)
    for path in ("", "/messages", "/members"):
        assert (await cast.call("owner", "GET", f"/api/rooms/{room['id']}{path}")).status_code == 404
    assert (await cast.call(who, "DELETE", f"/api/rooms/{room['id']}")).status_code == 404
    # The name is free again.
    assert (await cast.call("member", "POST", "/api/rooms", {"name": "doomed"})).status_code == 201
