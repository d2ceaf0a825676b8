"""POST /api/rooms and GET /api/rooms: creating, unique names, listing, search and paging."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import create_room, invite
from tests.rooms.helpers import HOSTILE_TEXTS, Cast, NewAccount, role_of


async def test_creating_a_room_makes_the_creator_its_owner(
    client: httpx.AsyncClient, new_account: NewAccount
) -> None:
    ada = await new_account()
    response = await client.post(
        "/api/rooms", json={"name": "General", "description": "Talk", "is_private": True}, headers=ada.headers
    )
    assert response.status_code == 201
    room = response.json()
    assert set(room) == {
        "id",
        "kind",
        "name",
        "description",
        "is_private",
        "created_at",
        "member_count",
        "last_seq",
        "last_rev",
    }
    assert (room["kind"], room["name"], room["description"], room["is_private"]) == (
        "room",
        "General",
        "Talk",
        True,
    )
    assert (room["member_count"], room["last_seq"], room["last_rev"]) == (1, 0, 0)
    assert room["created_at"].endswith("Z")
    assert await role_of(client, ada, room["id"], ada) == "owner"
    read = await client.get(f"/api/rooms/{room['id']}", headers=ada.headers)
    assert read.json() == room


async def test_description_and_privacy_have_defaults(
    client: httpx.AsyncClient, new_account: NewAccount
) -> None:
    ada = await new_account()
    response = await client.post("/api/rooms", json={"name": "  plain  "}, headers=ada.headers)
    assert response.status_code == 201
    assert response.json()["name"] == "plain"
    assert response.json()["description"] == ""
    assert response.json()["is_private"] is False


async def test_room_names_are_unique_ignoring_case(
    client: httpx.AsyncClient, new_account: NewAccount
) -> None:
    ada, bob = await new_account(), await new_account()
    await create_room(client, ada, "Lobby")
    for name in ["Lobby", "LOBBY", "lobby", " lObBy "]:
        response = await client.post("/api/rooms", json={"name": name}, headers=bob.headers)
        assert response.status_code == 409, name
        assert "exists" in response.json()["detail"]
    private = await client.post("/api/rooms", json={"name": "lobby", "is_private": True}, headers=bob.headers)
    assert private.status_code == 409


async def test_hostile_names_and_descriptions_come_back_byte_for_byte(
    client: httpx.AsyncClient, new_account: NewAccount
) -> None:
    ada = await new_account()
    for index, text in enumerate(HOSTILE_TEXTS):
        name = text[:60].replace("\n", " ").replace("\t", " ") + f" {index}"
        response = await client.post(
            "/api/rooms", json={"name": name, "description": text}, headers=ada.headers
        )
        assert response.status_code == 201, (text, response.text)
        read = await client.get(f"/api/rooms/{response.json()['id']}", headers=ada.headers)
        assert read.json()["name"].encode() == name.encode()
        assert read.json()["description"].encode() == text.encode()


INVALID_ROOMS: list[Any] = [
    {},
    {"description": "no name"},
    {"name": ""},
    {"name": "   "},
    {"name": None},
    {"name": 42},
    {"name": ["a"]},
    {"name": "x" * 65},
    {"name": "İ" * 33},  # 66 characters in lower case: no key for uniqueness fits
    {"name": "tab\tin name"},
    {"name": "line\nbreak"},
    {"name": "nul\x00"},
    {"name": "bell\x07"},
    {"name": "ok", "description": "x" * 1001},
    {"name": "ok", "description": "nul\x00"},
    {"name": "ok", "description": "escape\x1b[31m"},
    {"name": "ok", "description": 5},
    {"name": "ok", "is_private": "maybe"},
    {"name": "ok", "is_private": [True]},
    [],
    "General",
    None,
]


async def test_invalid_rooms_get_422(client: httpx.AsyncClient, new_account: NewAccount) -> None:
    ada = await new_account()
    for body in INVALID_ROOMS:
        response = await client.post("/api/rooms", json=body, headers=ada.headers)
        assert response.status_code == 422, body
    listed = await client.get("/api/rooms", headers=ada.headers)
    assert listed.json() == []


async def test_limits_of_names_and_descriptions(client: httpx.AsyncClient, new_account: NewAccount) -> None:
    ada = await new_account()
    response = await client.post(
        "/api/rooms", json={"name": "😀" * 64, "description": "é" * 1000}, headers=ada.headers
    )
    assert response.status_code == 201
    assert response.json()["name"] == "😀" * 64
    dotted = await client.post("/api/rooms", json={"name": "İ" * 32}, headers=ada.headers)
    assert dotted.status_code == 201
    assert (await client.post("/api/rooms", json={"name": "i̇" * 32}, headers=ada.headers)).status_code == 409
    assert response.json()["description"] == "é" * 1000


@pytest.mark.parametrize(
    "raw", [b"", b"nope", b'{"name": ', b"{'name': 'x'}", b"\xff\xfe", b'{"name": "x"}}']
)
async def test_malformed_json_gets_422(
    client: httpx.AsyncClient, raw: bytes, new_account: NewAccount
) -> None:
    ada = await new_account()
    response = await client.post(
        "/api/rooms", content=raw, headers={**ada.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 422


async def test_a_body_that_is_not_utf8_gets_422(client: httpx.AsyncClient, new_account: NewAccount) -> None:
    ada = await new_account()
    response = await client.post(
        "/api/rooms", content=b'{"name": "\xff"}', headers={**ada.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 422


async def test_creating_and_listing_need_an_active_account(cast: Cast) -> None:
    for role in ("anonymous", "deactivated"):
        created = await cast.call(role, "POST", "/api/rooms", {"name": "x"})
        listed = await cast.call(role, "GET", "/api/rooms")
        assert created.status_code == listed.status_code == 401, role
        assert created.headers["WWW-Authenticate"] == listed.headers["WWW-Authenticate"] == "Bearer"
    assert (await cast.call("owner", "GET", "/api/rooms")).json() == []


# --- listing ----------------------------------------------------------------------------


def names(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [room["name"] for room in response.json()]


async def test_the_list_has_public_rooms_and_my_private_ones_newest_first(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    cast = await Cast.create(client, app)
    await create_room(client, cast.owner, "public one")
    await create_room(client, cast.outsider, "public theirs")
    await cast.room(name="private mine", private=True)
    await create_room(client, cast.outsider, "private theirs", private=True)
    await create_room(client, cast.member, "public two")
    assert names(await client.get("/api/rooms", headers=cast.member.headers)) == [
        "public two",
        "private mine",
        "public theirs",
        "public one",
    ]
    assert names(await client.get("/api/rooms", headers=cast.outsider.headers)) == [
        "public two",
        "private theirs",
        "public theirs",
        "public one",
    ]
    # Site admins list what everyone does here; /api/admin/rooms lists every room.
    assert "private theirs" not in names(await client.get("/api/rooms", headers=cast.site_admin.headers))


async def test_member_count_and_last_seq_are_current_in_the_list(
    client: httpx.AsyncClient, new_account: NewAccount
) -> None:
    ada, bob = await new_account(), await new_account()
    room = await create_room(client, ada)
    await invite(client, ada, room["id"], bob)
    for body in ("one", "two"):
        await client.post(f"/api/rooms/{room['id']}/messages", json={"body": body}, headers=bob.headers)
    (listed,) = (await client.get("/api/rooms", headers=ada.headers)).json()
    assert (listed["member_count"], listed["last_seq"]) == (2, 2)


async def test_q_is_a_case_insensitive_substring_with_wildcards_taken_literally(
    client: httpx.AsyncClient, new_account: NewAccount
) -> None:
    ada = await new_account()
    every = [
        "Python Help",
        "python-dev",
        "Rust",
        "100% done",
        "1000 done",
        "snake_case",
        "snakeXcase",
        "a/b\\c",
        "Über Café",
    ]
    for name in every:
        await create_room(client, ada, name)

    async def search(q: str) -> list[str]:
        return sorted(names(await client.get("/api/rooms", params={"q": q}, headers=ada.headers)))

    assert await search("PYTHON") == ["Python Help", "python-dev"]
    assert await search("on h") == ["Python Help"]
    assert await search("%") == ["100% done"]
    assert await search("0%") == ["100% done"]
    assert await search("_") == ["snake_case"]
    assert await search("e_c") == ["snake_case"]
    assert await search("\\") == ["a/b\\c"]
    assert await search("/") == ["a/b\\c"]
    assert await search("B\\C") == ["a/b\\c"]
    assert await search("/%") == []
    assert await search("üBER CAFÉ") == ["Über Café"]
    assert await search("' OR '1'='1") == []
    assert await search("") == sorted(every)


async def test_limit_and_offset_page_the_list(client: httpx.AsyncClient, new_account: NewAccount) -> None:
    ada = await new_account()
    for index in range(7):
        await create_room(client, ada, f"room {index}")
    newest_first = [f"room {index}" for index in reversed(range(7))]

    async def page(**params: int) -> list[str]:
        return names(await client.get("/api/rooms", params=params, headers=ada.headers))

    assert await page() == newest_first
    assert await page(limit=1) == newest_first[:1]
    assert await page(limit=3, offset=2) == newest_first[2:5]
    assert await page(limit=500, offset=5) == newest_first[5:]
    assert await page(offset=7) == []
    assert await page(offset=1_000_000_000) == []


async def test_out_of_range_list_parameters_get_422(
    client: httpx.AsyncClient, new_account: NewAccount
) -> None:
    ada = await new_account()
    for params in [
        {"limit": 0},
        {"limit": 501},
        {"limit": -1},
        {"limit": "ten"},
        {"limit": "1.5"},
        {"limit": "99999999999999999999"},
        {"offset": -1},
        {"offset": "x"},
        {"offset": "99999999999999999999"},
        {"q": "x" * 201},
        {"q": "nul\x00"},
        {"q": "bell\x07"},
    ]:
        response = await client.get("/api/rooms", params=params, headers=ada.headers)
        assert response.status_code == 422, params
