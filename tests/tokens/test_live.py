"""API tokens on the WebSocket endpoints: admitted as access tokens are, `expires_at` null,
revocation closing their connections at once (4401 `token_revoked`), expiry (4401
`token_expired`), `auth` frames swapping one in, and the re-check after a broker outage."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import update

from api.auth.models import User
from api.tokens.models import ApiToken
from tests.auth.support import site_admin
from tests.factories import Account
from tests.realtime.client import Client, joined, multiplexed, refused, room_path, ws_path
from tests.rooms.helpers import context_of, issue_access_token, refuse_server_errors, store_accounts
from tests.servers import LiveServer
from tests.tokens.support import as_account, make_token, set_expiry


@pytest.fixture
async def http(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=live_server.http_url, event_hooks={"response": [refuse_server_errors]}
    ) as client:
        yield client


async def person(server: LiveServer, name: str) -> Account:
    assert server.app is not None
    (account,) = await store_accounts(server.app, [{"username": name}])
    return account


async def room_of(http: httpx.AsyncClient, owner: Account) -> int:
    response = await http.post(
        "/api/rooms", json={"name": f"room of {owner.username}"}, headers=owner.headers
    )
    assert response.status_code == 201, response.text
    room_id: int = response.json()["id"]
    return room_id


async def still_open(client: Client) -> None:
    await client.send({"type": "ping"})
    assert await client.recv_type("pong") == {"type": "pong"}


async def test_revoking_closes_what_the_token_opened_and_nothing_else(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    ada = await person(live_server, "ada")
    room_id = await room_of(http, ada)
    created, other = await make_token(http, ada, "one"), await make_token(http, ada, "two")
    bot_side = as_account(ada, created["token"])
    async with (
        multiplexed(live_server, bot_side) as everywhere,
        joined(live_server, bot_side, room_id) as in_room,
        multiplexed(live_server, as_account(ada, other["token"])) as other_token,
        multiplexed(live_server, ada) as logged_in,
    ):
        assert everywhere.history is not None
        assert everywhere.history["expires_at"] is None
        assert everywhere.history["user"] == ada.summary
        response = await http.delete(f"/api/me/tokens/{created['id']}", headers=ada.headers)
        assert response.status_code == 204
        assert await everywhere.closed() == (4401, "token_revoked")
        assert await in_room.closed() == (4401, "token_revoked")
        await still_open(other_token)
        await still_open(logged_in)
    for path in (ws_path(created["token"]), room_path(room_id, created["token"])):
        assert await refused(live_server, path) == (4401, "token_revoked")


async def test_wrong_tokens_are_refused_at_the_door(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    ada = await person(live_server, "ada")
    token = (await make_token(http, ada))["token"]
    for wrong in ("hbx_" + token[4:], token[:-1] + ("A" if token[-1] != "A" else "B"), "hbb_", token[4:]):
        assert await refused(live_server, ws_path(wrong)) == (4401, "token_invalid"), wrong


async def test_a_connection_closes_when_its_api_token_expires(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    assert live_server.app is not None
    ada = await person(live_server, "ada")
    room_id = await room_of(http, ada)
    created = await make_token(http, ada, expires_days=1)
    soon = datetime.now(UTC) + timedelta(seconds=1.5)
    await set_expiry(live_server.app, created["id"], soon)
    token = as_account(ada, created["token"])
    async with multiplexed(live_server, token) as everywhere, joined(live_server, token, room_id) as in_room:
        assert everywhere.history is not None
        assert datetime.fromisoformat(everywhere.history["expires_at"]) == soon.replace(
            microsecond=soon.microsecond
        )
        assert await everywhere.closed(timeout=5) == (4401, "token_expired")
        assert await in_room.closed(timeout=5) == (4401, "token_expired")
    assert datetime.now(UTC) >= soon
    assert await refused(live_server, ws_path(created["token"])) == (4401, "token_expired")


async def test_an_auth_frame_swaps_in_an_api_token_of_the_same_user(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    ada, eve = await person(live_server, "ada"), await person(live_server, "eve")
    adas, eves = await make_token(http, ada), await make_token(http, eve)
    revoked = await make_token(http, ada, "gone")
    assert (await http.delete(f"/api/me/tokens/{revoked['id']}", headers=ada.headers)).status_code == 204
    async with multiplexed(live_server, ada) as client:
        for wrong in (eves["token"], revoked["token"], "hbb_" + "A" * 49):
            await client.send({"type": "auth", "token": wrong})
            assert (await client.recv_type("error"))["code"] == "invalid_token"
        await client.send({"type": "auth", "token": adas["token"]})
        assert await client.recv_type("auth_ok") == {"type": "auth_ok", "expires_at": None}
        # It now holds the API token: a logout-all leaves it, revoking the token closes it.
        assert (await http.post("/api/auth/logout-all", headers=ada.headers)).status_code == 204
        await still_open(client)
        fresh = issue_access_token(live_server.app, ada.id)  # type: ignore[arg-type]
        response = await http.delete(
            f"/api/me/tokens/{adas['id']}", headers={"Authorization": f"Bearer {fresh}"}
        )
        assert response.status_code == 204
        assert await client.closed() == (4401, "token_revoked")


async def test_an_api_token_connection_swaps_in_a_login_token(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    ada = await person(live_server, "ada")
    created = await make_token(http, ada)
    async with multiplexed(live_server, as_account(ada, created["token"])) as client:
        await client.send({"type": "auth", "token": ada.token})
        assert (await client.recv_type("auth_ok"))["expires_at"] is not None
        assert (await http.delete(f"/api/me/tokens/{created['id']}", headers=ada.headers)).status_code == 204
        await still_open(client)
        assert (await http.post("/api/auth/logout-all", headers=ada.headers)).status_code == 204
        assert await client.closed() == (4401, "token_revoked")


async def test_deactivation_closes_api_token_connections(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    assert live_server.app is not None
    admin = await site_admin(live_server.app)
    ada = await person(live_server, "ada")
    created = await make_token(http, ada)
    async with multiplexed(live_server, as_account(ada, created["token"])) as client:
        off = await http.patch(f"/api/admin/users/{ada.id}", json={"is_active": False}, headers=admin.headers)
        assert off.status_code == 200
        assert await client.closed() == (1008, "account_disabled")
    assert await refused(live_server, ws_path(created["token"])) == (1008, "account_disabled")
    on = await http.patch(f"/api/admin/users/{ada.id}", json={"is_active": True}, headers=admin.headers)
    assert on.status_code == 200
    assert await refused(live_server, ws_path(created["token"])) == (4401, "token_revoked")


async def test_the_recheck_after_an_outage_closes_revoked_credentials(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    """Revocations this worker could not hear of (the broker was down): the re-check that
    follows the outage finds them in the database."""
    app = live_server.app
    assert app is not None
    ada, bob = await person(live_server, "ada"), await person(live_server, "bob")
    room_id = await room_of(http, ada)
    created, kept = await make_token(http, ada, "revoked"), await make_token(http, ada, "kept")
    async with (
        multiplexed(live_server, as_account(ada, created["token"])) as revoked_token,
        joined(live_server, as_account(ada, created["token"]), room_id) as revoked_in_room,
        multiplexed(live_server, as_account(ada, kept["token"])) as kept_token,
        multiplexed(live_server, ada) as old_login,
        multiplexed(live_server, bob) as bystander,
    ):
        # What the revocation and a logout-all commit, without their CLOSE envelopes.
        async with context_of(app).db.writing() as session:
            now = datetime.now(UTC)
            await session.execute(update(ApiToken).where(ApiToken.id == created["id"]).values(revoked_at=now))
            await session.execute(update(User).where(User.id == ada.id).values(tokens_valid_after=now))
        await asyncio.sleep(0.01)  # a login token issued after the logout-all, below
        async with multiplexed(live_server, as_account(ada, issue_access_token(app, ada.id))) as new_login:
            await context_of(app).hub._catch_up()
            assert await revoked_token.closed() == (4401, "token_revoked")
            assert await revoked_in_room.closed() == (4401, "token_revoked")
            assert await old_login.closed() == (4401, "token_revoked")
            for client in (kept_token, new_login, bystander):
                await still_open(client)
