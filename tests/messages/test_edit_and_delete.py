"""PATCH and DELETE /api/rooms/{room_id}/messages/{seq}: editing by the author, deleting by moderators."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import send
from tests.rooms.helpers import HOSTILE_TEXTS, Cast


def message_url(room: dict[str, Any], seq: object) -> str:
    return f"/api/rooms/{room['id']}/messages/{seq}"


async def history(cast: Cast, room: dict[str, Any]) -> list[dict[str, Any]]:
    response = await cast.call("owner", "GET", f"/api/rooms/{room['id']}/messages")
    messages: list[dict[str, Any]] = response.json()["messages"]
    return messages


async def test_the_author_edits_a_message(cast: Cast) -> None:
    room = await cast.room()
    sent = await send(cast.client, cast.member, room["id"], "first draft")
    response = await cast.call("member", "PATCH", message_url(room, sent["seq"]), {"body": "  final  "})
    assert response.status_code == 200
    edited = response.json()
    assert edited["body"] == "final"
    assert edited["edited_at"] is not None
    assert edited["edited_at"].endswith("Z")
    assert edited["edited_at"] >= sent["created_at"]
    assert edited["rev"] == sent["rev"] + 1  # the edit is the room's next change
    assert {k: v for k, v in edited.items() if k not in ("body", "edited_at", "rev")} == {
        k: v for k, v in sent.items() if k not in ("body", "edited_at", "rev")
    }
    assert await history(cast, room) == [edited]


async def test_nobody_else_edits_a_message(cast: Cast) -> None:
    room = await cast.room()
    sent = await send(cast.client, cast.member, room["id"], "mine")
    for role in ("owner", "admin", "target", "site_admin", "outsider"):
        response = await cast.call(role, "PATCH", message_url(room, sent["seq"]), {"body": "theirs"})
        assert response.status_code == 403, role
    assert [m["body"] for m in await history(cast, room)] == ["mine"]


async def test_an_author_who_left_cannot_edit(cast: Cast) -> None:
    room = await cast.room()
    sent = await send(cast.client, cast.member, room["id"], "mine")
    await cast.call("member", "POST", f"/api/rooms/{room['id']}/leave")
    response = await cast.call("member", "PATCH", message_url(room, sent["seq"]), {"body": "changed"})
    assert response.status_code == 403


async def test_edits_follow_the_body_rules(cast: Cast) -> None:
    room = await cast.room()
    sent = await send(cast.client, cast.member, room["id"], "original")
    url = message_url(room, sent["seq"])
    for body in [
        {},
        {"body": ""},
        {"body": "  \n "},
        {"body": "x" * 4001},
        {"body": "bell\x07"},
        {"body": "nul\x00"},
        {"body": None},
        {"body": 3},
        [],
    ]:
        response = await cast.call("member", "PATCH", url, body)
        assert response.status_code == 422, body
    assert (await cast.call("member", "PATCH", url, {"body": "😀" * 4000})).status_code == 200
    for text in HOSTILE_TEXTS:
        response = await cast.call("member", "PATCH", url, {"body": text})
        assert response.json()["body"] == text
        assert (await history(cast, room))[0]["body"].encode() == text.encode()


async def test_a_deleted_message_cannot_be_edited(cast: Cast) -> None:
    room = await cast.room()
    sent = await send(cast.client, cast.member, room["id"], "gone soon")
    await cast.call("member", "DELETE", message_url(room, sent["seq"]))
    response = await cast.call("member", "PATCH", message_url(room, sent["seq"]), {"body": "back"})
    assert response.status_code == 409
    assert (await history(cast, room))[0]["body"] == ""


@pytest.mark.parametrize("who", ["member", "admin", "owner", "site_admin"])
async def test_a_deleted_message_keeps_its_seq_and_loses_its_body(cast: Cast, who: str) -> None:
    room = await cast.room(private=True)
    first = await send(cast.client, cast.member, room["id"], "secret")
    second = await send(cast.client, cast.target, room["id"], "reply")
    response = await cast.call(who, "DELETE", message_url(room, first["seq"]))
    assert response.status_code == 204
    assert response.content == b""
    deleted, kept = await history(cast, room)
    assert deleted == {**first, "body": "", "deleted": True, "rev": second["rev"] + 1}
    assert kept == second
    again = await cast.call(who, "DELETE", message_url(room, first["seq"]))
    assert again.status_code == 204
    # Seqs go on from where they were: a deleted message's seq is never reused.
    third = await send(cast.client, cast.member, room["id"], "later")
    assert third["seq"] == 3


async def test_other_members_cannot_delete_a_message(cast: Cast) -> None:
    room = await cast.room()
    sent = await send(cast.client, cast.member, room["id"], "mine")
    for role in ("target", "outsider"):
        assert (await cast.call(role, "DELETE", message_url(room, sent["seq"]))).status_code == 403, role
    assert [m["deleted"] for m in await history(cast, room)] == [False]


async def test_a_seq_names_a_message_of_that_room_only(cast: Cast) -> None:
    room, other = await cast.room(), await cast.room()
    await send(cast.client, cast.member, room["id"], "in room")
    await send(cast.client, cast.member, other["id"], "in other")
    assert (await cast.call("member", "DELETE", message_url(other, 1))).status_code == 204
    assert [m["body"] for m in await history(cast, room)] == ["in room"]
    assert [m["body"] for m in await history(cast, other)] == [""]
    unknown = await cast.call("member", "PATCH", message_url(room, 2), {"body": "x"})
    assert unknown.status_code == 404
