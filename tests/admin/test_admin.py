"""/api/admin: site admins list and change users, list and delete rooms, and read the stats."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.factories import PASSWORD, Account, create_room, join, send, signup
from tests.realtime.client import joined
from tests.rooms.helpers import (
    MALFORMED_IDS,
    UNKNOWN_ID,
    NewAccount,
    context_of,
    refuse_server_errors,
    store_accounts,
)
from tests.servers import LiveServer

ROUTES = [
    ("GET", "/api/admin/users", None),
    ("PATCH", "/api/admin/users/{user}", {"is_admin": True}),
    ("GET", "/api/admin/rooms", None),
    ("DELETE", "/api/admin/rooms/{room}", None),
    ("GET", "/api/admin/stats", None),
]


@pytest.fixture
async def admin(new_account: NewAccount) -> Account:
    return await new_account("root", is_admin=True)


async def patch_user(client: httpx.AsyncClient, admin: Account, user_id: object, body: Any) -> httpx.Response:
    return await client.patch(f"/api/admin/users/{user_id}", json=body, headers=admin.headers)


async def test_only_site_admins_get_in(
    client: httpx.AsyncClient, admin: Account, new_account: NewAccount
) -> None:
    ada = await new_account()
    room = await create_room(client, ada)
    for method, path, body in ROUTES:
        url = path.format(user=ada.id, room=room["id"])
        anonymous = await client.request(method, url, json=body)
        assert anonymous.status_code == 401, url
        assert anonymous.headers["WWW-Authenticate"] == "Bearer"
        forged = await client.request(method, url, json=body, headers={"Authorization": "Bearer not.a.token"})
        assert forged.status_code == 401, url
        refused = await client.request(method, url, json=body, headers=ada.headers)
        assert refused.status_code == 403, url
    me = await client.get("/api/users/me", headers=ada.headers)
    assert me.json()["is_admin"] is False
    assert (await client.get(f"/api/rooms/{room['id']}", headers=ada.headers)).status_code == 200


async def test_users_are_listed_and_searched(
    client: httpx.AsyncClient, admin: Account, new_account: NewAccount
) -> None:
    for name in ["Alice", "alfred", "bob", "al_x", "alyx"]:
        await new_account(name)
    response = await client.get("/api/admin/users", headers=admin.headers)
    assert response.status_code == 200
    users = response.json()
    assert [u["username"] for u in users] == ["root", "Alice", "alfred", "bob", "al_x", "alyx"]
    assert set(users[0]) == {
        "id",
        "username",
        "display_name",
        "is_admin",
        "is_bot",
        "created_at",
        "is_active",
    }
    assert (users[0]["is_admin"], users[0]["is_active"]) == (True, True)
    assert (users[1]["is_admin"], users[1]["is_active"]) == (False, True)

    async def search(**params: object) -> list[str]:
        found = await client.get("/api/admin/users", params=params, headers=admin.headers)
        assert found.status_code == 200, found.text
        return [u["username"] for u in found.json()]

    assert await search(q="AL") == ["Alice", "alfred", "al_x", "alyx"]
    assert await search(q="l_") == ["al_x"]
    assert await search(q="%") == []  # taken literally: no username can hold one
    assert await search(q="' OR '1'='1") == []
    assert await search(limit=2, offset=1) == ["Alice", "alfred"]
    assert await search(offset=50) == []
    for params in [{"limit": 0}, {"limit": 501}, {"offset": -1}, {"q": "x" * 201}, {"q": "\x00"}]:
        response = await client.get("/api/admin/users", params=params, headers=admin.headers)
        assert response.status_code == 422, params


async def test_a_deactivated_user_is_locked_out_until_reactivated(
    client: httpx.AsyncClient, admin: Account
) -> None:
    ada = await signup(client)
    response = await patch_user(client, admin, ada.id, {"is_active": False})
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert response.json()["username"] == ada.username
    refused = await client.get("/api/users/me", headers=ada.headers)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == "Bearer"
    assert (await client.post("/api/rooms", json={"name": "x"}, headers=ada.headers)).status_code == 401
    refresh = await client.post("/api/auth/refresh", json={"refresh_token": ada.refresh_token})
    assert refresh.status_code == 401
    login = await client.post("/api/auth/login", data={"username": ada.username, "password": PASSWORD})
    assert login.status_code == 403
    listed = await client.get("/api/admin/users", params={"q": ada.username}, headers=admin.headers)
    assert listed.json()[0]["is_active"] is False

    reactivated = await patch_user(client, admin, ada.id, {"is_active": True})
    assert reactivated.json()["is_active"] is True
    login = await client.post("/api/auth/login", data={"username": ada.username, "password": PASSWORD})
    assert login.status_code == 200
    me = await client.get(
        "/api/users/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"}
    )
    assert me.status_code == 200
    # The refresh token revoked at deactivation stays revoked.
    refresh = await client.post("/api/auth/refresh", json={"refresh_token": ada.refresh_token})
    assert refresh.status_code == 401


async def test_admin_rights_are_granted_and_removed(
    client: httpx.AsyncClient, admin: Account, new_account: NewAccount
) -> None:
    ada = await new_account()
    granted = await patch_user(client, admin, ada.id, {"is_admin": True})
    assert granted.status_code == 200
    assert granted.json()["is_admin"] is True
    assert (await client.get("/api/admin/stats", headers=ada.headers)).status_code == 200
    assert (await client.get("/api/users/me", headers=ada.headers)).json()["is_admin"] is True
    # The new admin may take the first one's rights away.
    removed = await patch_user(client, ada, admin.id, {"is_admin": False})
    assert removed.json()["is_admin"] is False
    assert (await client.get("/api/admin/stats", headers=admin.headers)).status_code == 403


async def test_an_admin_cannot_deactivate_or_demote_themself(
    client: httpx.AsyncClient, admin: Account
) -> None:
    for body in ({"is_active": False}, {"is_admin": False}, {"is_active": False, "is_admin": True}):
        response = await patch_user(client, admin, admin.id, body)
        assert response.status_code == 409, body
    unchanged = await patch_user(client, admin, admin.id, {"is_active": True, "is_admin": True})
    assert unchanged.status_code == 200
    assert (unchanged.json()["is_active"], unchanged.json()["is_admin"]) == (True, True)
    assert (await client.get("/api/admin/stats", headers=admin.headers)).status_code == 200


async def test_changing_an_unknown_user_or_with_a_bad_body(
    client: httpx.AsyncClient, admin: Account, new_account: NewAccount
) -> None:
    ada = await new_account()
    for user_id in [*MALFORMED_IDS, UNKNOWN_ID]:
        response = await patch_user(client, admin, user_id, {"is_active": False})
        assert response.status_code == 404, user_id
    for body in [{"is_active": "perhaps"}, {"is_admin": [True]}, {"is_active": {}}, [], "x", 5]:
        response = await patch_user(client, admin, ada.id, body)
        assert response.status_code == 422, body
    nothing = await patch_user(client, admin, ada.id, {})
    assert nothing.status_code == 200
    assert (nothing.json()["is_active"], nothing.json()["is_admin"]) == (True, False)


async def test_every_room_is_listed_and_any_can_be_deleted(
    client: httpx.AsyncClient, admin: Account, new_account: NewAccount
) -> None:
    ada, bob = await new_account(), await new_account()
    public = await create_room(client, ada, "Open Plan")
    private = await create_room(client, bob, "Back_Office", private=True)
    await send(client, bob, private["id"], "hush")
    listed = await client.get("/api/admin/rooms", headers=admin.headers)
    assert [r["name"] for r in listed.json()] == ["Back_Office", "Open Plan"]
    assert listed.json()[0] == {**private, "last_seq": 1, "last_rev": 1}
    found = await client.get("/api/admin/rooms", params={"q": "k_o"}, headers=admin.headers)
    assert [r["name"] for r in found.json()] == ["Back_Office"]
    paged = await client.get("/api/admin/rooms", params={"limit": 1, "offset": 1}, headers=admin.headers)
    assert [r["name"] for r in paged.json()] == ["Open Plan"]
    for params in [{"limit": 0}, {"limit": 501}, {"offset": -1}]:
        response = await client.get("/api/admin/rooms", params=params, headers=admin.headers)
        assert response.status_code == 422, params

    deleted = await client.delete(f"/api/admin/rooms/{private['id']}", headers=admin.headers)
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert (await client.get(f"/api/rooms/{private['id']}", headers=bob.headers)).status_code == 404
    assert [r["id"] for r in (await client.get("/api/admin/rooms", headers=admin.headers)).json()] == [
        public["id"]
    ]
    stats = await client.get("/api/admin/stats", headers=admin.headers)
    assert stats.json()["messages"] == 0
    for room_id in [private["id"], *MALFORMED_IDS, UNKNOWN_ID]:
        response = await client.delete(f"/api/admin/rooms/{room_id}", headers=admin.headers)
        assert response.status_code == 404, room_id


async def test_stats_count_users_rooms_and_messages(
    client: httpx.AsyncClient, admin: Account, new_account: NewAccount
) -> None:
    empty = await client.get("/api/admin/stats", headers=admin.headers)
    assert empty.json() == {"users": 1, "rooms": 0, "messages": 0, "connections": 0}
    ada, bob = await new_account(), await new_account()
    rooms = [await create_room(client, ada), await create_room(client, bob, private=True)]
    await join(client, bob, rooms[0]["id"])
    await asyncio.gather(*(send(client, bob, rooms[i % 2]["id"], f"m{i}") for i in range(7)))
    await client.delete(f"/api/rooms/{rooms[0]['id']}/messages/1", headers=ada.headers)
    stats = await client.get("/api/admin/stats", headers=admin.headers)
    # A deleted message keeps its place, so it still counts.
    assert stats.json() == {"users": 3, "rooms": 2, "messages": 7, "connections": 0}


@pytest.fixture
async def http(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    hooks = {"response": [refuse_server_errors]}
    async with httpx.AsyncClient(base_url=live_server.http_url, event_hooks=hooks) as client:
        yield client


async def test_stats_count_live_connections(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    assert live_server.app is not None
    admin, ada = await store_accounts(
        live_server.app, [{"username": "root", "is_admin": True}, {"username": "ada"}]
    )
    room = await create_room(http, ada)

    async def connections() -> int:
        response = await http.get("/api/admin/stats", headers=admin.headers)
        count: int = response.json()["connections"]
        return count

    async with joined(live_server, ada, room["id"]), joined(live_server, ada, room["id"]):
        assert await connections() == 2
    for _ in range(250):  # the server notices the closes a moment later
        if await connections() == 0:
            break
        await asyncio.sleep(0.02)
    assert await connections() == 0
    assert context_of(live_server.app).hub.connection_count == 0
