"""POST /api/auth/logout-all, and deactivation being final for old tokens: both refuse every
access token issued before them, over REST and WebSocket, and close live connections."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from jose import jwt
from sqlalchemy import select

from api.auth.models import User
from tests.auth.support import site_admin
from tests.factories import Account, create_room, join, login, signup
from tests.realtime.client import Client, joined, refused, room_path
from tests.rooms.helpers import context_of, refuse_server_errors
from tests.servers import LiveServer


@pytest.fixture
async def http(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=live_server.http_url, event_hooks={"response": [refuse_server_errors]}
    ) as client:
        yield client


async def logout_all(client: httpx.AsyncClient, account: Account) -> httpx.Response:
    return await client.post("/api/auth/logout-all", headers=account.headers)


async def test_old_tokens_stop_working_and_new_ones_work(client: httpx.AsyncClient) -> None:
    ada = await signup(client, "ada")
    other_device = await login(client, "ada")
    bob = await signup(client, "bob")
    assert (await logout_all(client, ada)).status_code == 204
    for account in (ada, other_device):
        response = await client.get("/api/users/me", headers=account.headers)
        assert response.status_code == 401
        assert response.json() == {"detail": "Token revoked"}
        assert response.headers["WWW-Authenticate"] == "Bearer"
        refreshed = await client.post("/api/auth/refresh", json={"refresh_token": account.refresh_token})
        assert refreshed.status_code == 401
    # Logging in again works at once; another user is untouched.
    again = await login(client, "ada")
    assert (await client.get("/api/users/me", headers=again.headers)).status_code == 200
    assert [
        s["current"] for s in (await client.get("/api/users/me/sessions", headers=again.headers)).json()
    ] == [True]
    assert (await client.get("/api/users/me", headers=bob.headers)).status_code == 200
    assert (
        await client.post("/api/auth/refresh", json={"refresh_token": bob.refresh_token})
    ).status_code == 200
    # The old token cannot log out everywhere again either.
    assert (await logout_all(client, ada)).status_code == 401


async def test_a_token_issued_in_the_same_second_after_it_works(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """`iat` carries microseconds: a whole-second one would refuse this login until the next
    second (or accept tokens issued before the logout-all within its second)."""
    await signup(client, "ada")
    same_second = 0
    for _ in range(5):
        before = await login(client, "ada")
        assert (await logout_all(client, before)).status_code == 204
        after = await login(client, "ada")
        async with context_of(app).db.session() as session:
            valid_after = await session.scalar(select(User.tokens_valid_after).where(User.id == before.id))
        assert valid_after is not None
        issued = jwt.get_unverified_claims(after.token)["iat"]
        assert issued > valid_after.timestamp() > jwt.get_unverified_claims(before.token)["iat"]
        assert (await client.get("/api/users/me", headers=after.headers)).status_code == 200
        assert (await client.get("/api/users/me", headers=before.headers)).status_code == 401
        if math.floor(issued) == math.floor(valid_after.timestamp()):
            same_second += 1
    assert same_second, "no login landed in the logout's second; the machine is very slow"


async def test_logout_all_needs_a_valid_access_token(client: httpx.AsyncClient) -> None:
    ada = await signup(client, "ada")
    for headers in (
        {},
        {"Authorization": "Bearer not.a.token"},
        {"Authorization": f"Bearer {ada.refresh_token}"},
        {"Authorization": "Basic YWRhOnB3"},
    ):
        response = await client.post("/api/auth/logout-all", headers=headers)
        assert response.status_code == 401, headers
    assert (await client.get("/api/users/me", headers=ada.headers)).status_code == 200


async def test_live_connections_close_with_token_revoked(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    ada, bob = await signup(http, "ada"), await signup(http, "bob")
    rooms = [(await create_room(http, ada))["id"] for _ in range(2)]
    await join(http, bob, rooms[0])
    async with (
        joined(live_server, ada, rooms[0]) as first,
        joined(live_server, ada, rooms[1]) as second,
        joined(live_server, bob, rooms[0]) as watcher,
    ):
        assert (await logout_all(http, ada)).status_code == 204
        assert await first.closed() == (4401, "token_revoked")
        assert await second.closed() == (4401, "token_revoked")
        assert (await watcher.recv_type("leave"))["user"]["id"] == ada.id
        await watcher.send({"type": "ping"})
        assert await watcher.recv_type("pong") == {"type": "pong"}
    # The old token is refused at the door, and as an `auth` frame on a new connection.
    assert await refused(live_server, room_path(rooms[0], ada.token)) == (4401, "token_revoked")
    fresh = await login(http, "ada")
    async with joined(live_server, fresh, rooms[0]) as client:
        await client.send({"type": "auth", "token": ada.token})
        error = await client.recv_type("error")
        assert error["code"] == "invalid_token"
        await client.send({"type": "ping"})
        assert await client.recv_type("pong") == {"type": "pong"}


async def test_deactivation_is_final_for_old_tokens(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    assert live_server.app is not None
    admin = await site_admin(live_server.app)
    ada = await signup(http, "ada")
    room_id = (await create_room(http, ada))["id"]
    off = await http.patch(f"/api/admin/users/{ada.id}", json={"is_active": False}, headers=admin.headers)
    assert off.status_code == 200
    deactivated = await http.get("/api/users/me", headers=ada.headers)
    assert deactivated.json() == {"detail": "Account deactivated"}
    on = await http.patch(f"/api/admin/users/{ada.id}", json={"is_active": True}, headers=admin.headers)
    assert on.status_code == 200
    # Reactivated: the token from before stays refused, everywhere; a new login works.
    response = await http.get("/api/users/me", headers=ada.headers)
    assert (response.status_code, response.json()) == (401, {"detail": "Token revoked"})
    assert await refused(live_server, room_path(room_id, ada.token)) == (4401, "token_revoked")
    fresh = await login(http, "ada")
    assert (await http.get("/api/users/me", headers=fresh.headers)).status_code == 200
    async with joined(live_server, fresh, room_id) as client:
        assert isinstance(client, Client)


async def test_changing_admin_rights_leaves_tokens_alone(client: httpx.AsyncClient, app: FastAPI) -> None:
    admin = await site_admin(app)
    ada = await signup(client, "ada")
    granted = await client.patch(f"/api/admin/users/{ada.id}", json={"is_admin": True}, headers=admin.headers)
    assert granted.status_code == 200
    already_active = await client.patch(
        f"/api/admin/users/{ada.id}", json={"is_active": True}, headers=admin.headers
    )
    assert already_active.status_code == 200
    assert (await client.get("/api/users/me", headers=ada.headers)).status_code == 200
