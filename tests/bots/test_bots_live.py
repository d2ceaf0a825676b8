"""A bot over `/ws` with its token: invited, it hears `room_added`; it reads mentions and
answers; revoking its token through the admin route closes it at once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.auth.support import site_admin
from tests.factories import Account
from tests.realtime.client import multiplexed, refused, ws_path
from tests.rooms.helpers import refuse_server_errors, store_accounts
from tests.servers import LiveServer
from tests.tokens.support import as_account, bearer


@pytest.fixture
async def http(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=live_server.http_url, event_hooks={"response": [refuse_server_errors]}
    ) as client:
        yield client


async def test_a_bot_lives_in_rooms_over_ws(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    assert live_server.app is not None
    admin = await site_admin(live_server.app)
    (ada,) = await store_accounts(live_server.app, [{"username": "ada"}])
    made = await http.post("/api/admin/bots", json={"username": "helper"}, headers=admin.headers)
    assert made.status_code == 201
    bot_user, token = made.json()["user"], made.json()["token"]
    bot = as_account(Account(bot_user["id"], "helper", token, ""), token)
    room = (
        await http.post("/api/rooms", json={"name": "ops", "is_private": True}, headers=ada.headers)
    ).json()
    async with multiplexed(live_server, bot) as connection, multiplexed(live_server, ada) as person:
        assert connection.history is not None
        assert connection.history["expires_at"] is None
        invited = await http.post(
            f"/api/rooms/{room['id']}/members", json={"username": "helper"}, headers=ada.headers
        )
        assert invited.status_code == 201
        added = await connection.recv_type("room_added")
        assert (added["room"]["id"], added["role"]) == (room["id"], "member")
        await connection.subscribe(room["id"], since_rev=added["room"]["last_rev"])
        await person.subscribe(room["id"])
        await person.send({"type": "message", "room_id": room["id"], "body": "@helper status?"})
        [mention] = await connection.messages(1)
        assert mention["mentions"] == [bot.id]
        await connection.send(
            {"type": "message", "room_id": room["id"], "body": "all green", "reply_to": mention["seq"]}
        )
        answers = await person.messages(2)
        assert (answers[1]["author"]["id"], answers[1]["reply_to"]) == (bot.id, mention["seq"])
        [listed] = (await http.get(f"/api/admin/bots/{bot.id}/tokens", headers=admin.headers)).json()
        revoked = await http.delete(f"/api/admin/bots/{bot.id}/tokens/{listed['id']}", headers=admin.headers)
        assert revoked.status_code == 204
        assert await connection.closed() == (4401, "token_revoked")
        await person.send({"type": "ping"})
        assert await person.recv_type("pong") == {"type": "pong"}
    assert (await http.get("/api/users/me", headers=bearer(token))).status_code == 401
    assert await refused(live_server, ws_path(token)) == (4401, "token_revoked")
