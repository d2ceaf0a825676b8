"""POST /api/direct: one private room per pair of people, and what its members may not change."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from api.rooms.models import Room
from tests.factories import Account, create_room
from tests.rooms.helpers import Cast, NewAccount, context_of


async def open_direct(client: httpx.AsyncClient, who: Account, username: str) -> httpx.Response:
    return await client.post("/api/direct", json={"username": username}, headers=who.headers)


async def members(cast: Cast, room_id: int, role: str = "member") -> list[tuple[int, str]]:
    response = await cast.call(role, "GET", f"/api/rooms/{room_id}/members")
    assert response.status_code == 200, response.text
    return sorted((m["user"]["id"], m["role"]) for m in response.json())


async def test_the_first_open_makes_a_private_room_of_the_two(
    client: httpx.AsyncClient, new_account: NewAccount
) -> None:
    bob, alice = await new_account("bob"), await new_account("Alice")
    response = await open_direct(client, bob, "alice")
    assert response.status_code == 201, response.text
    room = response.json()
    assert {
        k: room[k] for k in ("kind", "name", "description", "is_private", "member_count", "last_seq")
    } == {
        "kind": "direct",
        "name": "Alice, bob",  # sorted ignoring case, as each username is written
        "description": "",
        "is_private": True,
        "member_count": 2,
        "last_seq": 0,
    }
    listed = await client.get(f"/api/rooms/{room['id']}/members", headers=alice.headers)
    assert sorted((m["user"]["id"], m["role"]) for m in listed.json()) == sorted(
        [(bob.id, "member"), (alice.id, "member")]
    )
    read = await client.get(f"/api/rooms/{room['id']}", headers=alice.headers)
    assert read.json() == room


async def test_afterwards_either_of_the_two_gets_the_same_room_with_200(
    client: httpx.AsyncClient, new_account: NewAccount
) -> None:
    ada, bob = await new_account("ada"), await new_account("Bob")
    first = await open_direct(client, ada, "bob")
    assert first.status_code == 201
    for who, username in [(ada, "bob"), (ada, "BOB"), (bob, "ada"), (bob, "ADA"), (ada, "Bob")]:
        again = await open_direct(client, who, username)
        assert again.status_code == 200, (who.username, username)
        assert again.json() == first.json()


async def test_a_room_with_oneself_has_one_member_and_ones_name_once(
    client: httpx.AsyncClient, new_account: NewAccount
) -> None:
    ada = await new_account("Ada")
    response = await open_direct(client, ada, "ada")
    assert response.status_code == 201
    room = response.json()
    assert (room["name"], room["member_count"], room["kind"]) == ("Ada", 1, "direct")
    listed = await client.get(f"/api/rooms/{room['id']}/members", headers=ada.headers)
    assert [(m["user"]["id"], m["role"]) for m in listed.json()] == [(ada.id, "member")]
    again = await open_direct(client, ada, "ADA")
    assert (again.status_code, again.json()) == (200, room)


async def test_each_pair_has_its_own_room(client: httpx.AsyncClient, new_account: NewAccount) -> None:
    ada, bob, cy = await new_account("ada"), await new_account("bob"), await new_account("cyd")
    rooms = [
        (await open_direct(client, ada, "bob")).json()["id"],
        (await open_direct(client, ada, "cyd")).json()["id"],
        (await open_direct(client, cy, "bob")).json()["id"],
        (await open_direct(client, ada, "ada")).json()["id"],
        (await open_direct(client, bob, "bob")).json()["id"],
    ]
    assert len(set(rooms)) == 5


async def test_the_longest_usernames_make_a_66_character_name(
    client: httpx.AsyncClient, new_account: NewAccount
) -> None:
    _, second = await new_account("a" * 32), await new_account("B" * 32)
    response = await open_direct(client, second, "a" * 32)
    assert response.status_code == 201
    assert response.json()["name"] == "a" * 32 + ", " + "B" * 32


async def test_unknown_or_deactivated_usernames_are_404(cast: Cast) -> None:
    for username in (
        "nobody",
        "no.such-user_1",
        cast.deactivated.username,
        cast.deactivated.username.upper(),
    ):
        response = await cast.call("member", "POST", "/api/direct", {"username": username})
        assert response.status_code == 404, username
        assert response.json() == {"detail": "User not found"}


async def test_a_room_opened_before_its_other_member_was_deactivated_is_404_then(cast: Cast) -> None:
    opened = await cast.call("member", "POST", "/api/direct", {"username": cast.outsider.username})
    assert opened.status_code == 201
    deactivate = await cast.call(
        "site_admin", "PATCH", f"/api/admin/users/{cast.outsider.id}", {"is_active": False}
    )
    assert deactivate.status_code == 200
    again = await cast.call("member", "POST", "/api/direct", {"username": cast.outsider.username})
    assert again.status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"username": None},
        {"username": 42},
        {"username": ["ada"]},
        {"username": ""},
        {"username": "ab"},
        {"username": "a" * 33},
        {"username": "ada lovelace"},
        {"username": "'; DROP TABLE rooms; --"},
        {"username": "ädа"},
        {"username": "ada\x00"},
        {"username": "\ud800"},
        [],
        "ada",
        None,
    ],
)
async def test_malformed_requests_are_422(cast: Cast, body: Any) -> None:
    # Sent as ASCII JSON, so a lone surrogate travels as its escape.
    response = await cast.client.post(
        "/api/direct",
        content=json.dumps(body),
        headers={**cast.member.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422, body


async def test_anonymous_callers_get_401(cast: Cast) -> None:
    response = await cast.call("anonymous", "POST", "/api/direct", {"username": cast.member.username})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_direct_rooms_are_not_listed_in_get_rooms(cast: Cast) -> None:
    room = (await cast.call("member", "POST", "/api/direct", {"username": cast.target.username})).json()
    public = await cast.room()
    for role in ("member", "target", "site_admin", "outsider"):
        for params in ({}, {"q": cast.member.username[:4]}, {"q": ","}, {"q": room["name"]}):
            listed = await cast.call(role, "GET", "/api/rooms", params=params)
            assert listed.status_code == 200
            assert room["id"] not in [r["id"] for r in listed.json()], (role, params)
    assert public["id"] in [r["id"] for r in (await cast.call("member", "GET", "/api/rooms")).json()]
    # Site administration lists every room, direct ones included, marked as such.
    every = (await cast.call("site_admin", "GET", "/api/admin/rooms", params={"q": room["name"]})).json()
    assert [(r["id"], r["kind"]) for r in every] == [(room["id"], "direct")]


async def test_room_names_stay_unique_for_normal_rooms_only(cast: Cast, new_account: NewAccount) -> None:
    ada, bob = await new_account("ada"), await new_account("bob")
    direct = (await open_direct(cast.client, ada, "bob")).json()
    # A normal room may take a direct room's name, and a direct room's never blocks one.
    named = await create_room(cast.client, ada, "ada, bob")
    assert named["kind"] == "room"
    again = await cast.client.post("/api/rooms", json={"name": "ADA, BOB"}, headers=bob.headers)
    assert again.status_code == 409
    other = await create_room(cast.client, bob, "other")
    renamed = await cast.client.patch(
        f"/api/rooms/{other['id']}", json={"name": "Ada, Bob"}, headers=bob.headers
    )
    assert renamed.status_code == 409
    assert (await open_direct(cast.client, bob, "ada")).json() == direct


def direct_row(low: int, high: int, *, kind: str = "direct", name: str = "x") -> Room:
    return Room(
        kind=kind,
        name=name,
        name_key=name.lower(),
        description="",
        is_private=True,
        last_seq=0,
        direct_low_id=low,
        direct_high_id=high,
    )


async def test_the_schema_keeps_one_room_per_pair_and_kinds_consistent(
    app: Any, new_account: NewAccount, client: httpx.AsyncClient
) -> None:
    ada, bob = await new_account(), await new_account()
    await open_direct(client, ada, bob.username)
    low, high = sorted((ada.id, bob.id))
    refused = [
        direct_row(low, high),  # a second room for the pair
        direct_row(high, low),  # the pair the wrong way round
        direct_row(low, high, kind="room", name="not direct"),  # a normal room with a pair
        direct_row(low, high, kind="chat"),
    ]
    for row in refused:
        with pytest.raises(IntegrityError):
            async with context_of(app).db.writing() as session:
                session.add(row)
    # Direct rooms share names freely (the name rule is for normal rooms).
    async with context_of(app).db.writing() as session:
        session.add_all([direct_row(low, low, name="same"), direct_row(high, high, name="SAME")])
    async with context_of(app).db.session() as session:
        assert await session.scalar(select(func.count()).select_from(Room).where(Room.kind == "direct")) == 3


# --- what its members, site admins and everyone else get under /api/rooms/{room_id} -----------

ROLES = ["member", "target", "site_admin", "outsider"]


def each(member: int, site_admin: int | None = None) -> dict[str, int]:
    """The two members get `member`, a site admin `site_admin`, anyone else 404."""
    return {
        "member": member,
        "target": member,
        "site_admin": member if site_admin is None else site_admin,
        "outsider": 404,
    }


# method, path ({room}, {me}: the caller's id, {other}: the other member's id), body, expected
ROUTES: list[tuple[str, str, Any, dict[str, int]]] = [
    ("GET", "/api/rooms/{room}", None, each(200)),
    ("PATCH", "/api/rooms/{room}", {"description": "mine now"}, each(403)),
    ("PATCH", "/api/rooms/{room}", {"is_private": False}, each(403)),
    ("POST", "/api/rooms/{room}/join", None, each(403)),
    ("POST", "/api/rooms/{room}/leave", None, each(403)),
    ("GET", "/api/rooms/{room}/members", None, each(200)),
    ("POST", "/api/rooms/{room}/members", {"username": "{outsider}"}, each(403)),
    ("PATCH", "/api/rooms/{room}/members/{other}", {"role": "owner"}, each(403)),
    ("PATCH", "/api/rooms/{room}/members/{me}", {"role": "owner"}, each(403)),
    ("DELETE", "/api/rooms/{room}/members/{other}", None, each(403)),
    ("DELETE", "/api/rooms/{room}/members/{me}", None, each(403)),
    ("GET", "/api/rooms/{room}/bans", None, each(403)),
    ("POST", "/api/rooms/{room}/bans", {"user_id": "{other}"}, each(403)),
    ("DELETE", "/api/rooms/{room}/bans/{other}", None, each(403)),
    ("GET", "/api/rooms/{room}/messages", None, each(200)),
    ("POST", "/api/rooms/{room}/messages", {"body": "hi"}, each(201, site_admin=403)),
    # Deleting: not its members (the other's copy would go too); a site admin may (moderation).
    ("DELETE", "/api/rooms/{room}", None, each(403, site_admin=204)),
]


def fill(body: Any, fields: dict[str, Any]) -> Any:
    if not body:
        return None
    return {k: fields[v[1:-1]] if isinstance(v, str) and v.startswith("{") else v for k, v in body.items()}


async def try_every_route(
    cast: Cast, room: dict[str, Any], routes: list[tuple[str, str, Any, dict[str, int]]]
) -> None:
    """Each route, as each role, checking the status codes."""
    others = {
        "member": cast.target.id,
        "target": cast.member.id,
        "site_admin": cast.member.id,
        "outsider": cast.member.id,
    }
    for method, path, body, expected in routes:
        for role in ROLES:
            me: Account = getattr(cast, role)
            fields = {
                "room": room["id"],
                "me": me.id,
                "other": others[role],
                "outsider": cast.outsider.username,
            }
            response = await cast.call(role, method, path.format(**fields), fill(body, fields))
            assert response.status_code == expected[role], (method, path, body, role, response.text)
            if response.status_code == 403:
                assert response.json()["detail"]


async def test_direct_rooms_answer_each_route_as_decided(cast: Cast) -> None:
    room = (await cast.call("member", "POST", "/api/direct", {"username": cast.target.username})).json()
    await try_every_route(cast, room, ROUTES[:-1])
    # Nothing changed: still the two, both members, the room as it was.
    assert await members(cast, room["id"]) == sorted([(cast.member.id, "member"), (cast.target.id, "member")])
    read = (await cast.call("target", "GET", f"/api/rooms/{room['id']}")).json()
    assert (read["name"], read["description"], read["is_private"], read["kind"]) == (
        room["name"],
        "",
        True,
        "direct",
    )
    await try_every_route(cast, room, ROUTES[-1:])
    assert (await cast.call("member", "GET", f"/api/rooms/{room['id']}")).status_code == 404


async def test_a_deleted_direct_room_is_made_afresh(cast: Cast) -> None:
    first = (await cast.call("member", "POST", "/api/direct", {"username": cast.target.username})).json()
    await cast.call("member", "POST", f"/api/rooms/{first['id']}/messages", {"body": "before"})
    assert (await cast.call("site_admin", "DELETE", f"/api/admin/rooms/{first['id']}")).status_code == 204
    again = await cast.call("target", "POST", "/api/direct", {"username": cast.member.username})
    assert again.status_code == 201
    # (SQLite may give it the freed id again.)
    assert again.json()["last_seq"] == 0
    history = await cast.call("member", "GET", f"/api/rooms/{again.json()['id']}/messages")
    assert history.json()["messages"] == []
