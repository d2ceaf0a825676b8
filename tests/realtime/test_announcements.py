"""POST /api/admin/announcements: every open connection (room sockets and /ws) gets the
`announcement` frame; the body follows the message rules; it is audited."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx

from tests.auth.support import site_admin
from tests.realtime.client import joined, multiplexed
from tests.rooms.helpers import refuse_server_errors, store_accounts
from tests.servers import LiveServer
from tests.tokens.support import bearer, make_token

PATH = "/api/admin/announcements"


async def test_every_open_connection_gets_it(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    assert live_server.app is not None
    http.event_hooks["response"].append(refuse_server_errors)
    admin = await site_admin(live_server.app)
    ada, bob = await store_accounts(live_server.app, [{"username": "ada"}, {"username": "bob"}])
    room = (await http.post("/api/rooms", json={"name": "general"}, headers=ada.headers)).json()
    async with (
        joined(live_server, ada, room["id"]) as room_socket,
        multiplexed(live_server, bob) as everywhere,
        multiplexed(live_server, admin) as the_sender,
    ):
        before = datetime.now(UTC)
        response = await http.post(
            PATH, json={"body": "  Restart at 18:00 UTC\n(5 minutes)  "}, headers=admin.headers
        )
        assert response.status_code == 202, response.text
        body = "Restart at 18:00 UTC\n(5 minutes)"
        answer = response.json()
        assert answer["body"] == body
        assert answer["from"] == admin.summary
        for client in (room_socket, everywhere, the_sender):
            frame = await client.recv_type("announcement")
            assert set(frame) == {"type", "body", "from", "created_at"}
            assert (frame["body"], frame["from"]) == (body, admin.summary)
            assert frame["created_at"] == answer["created_at"].replace("+00:00", "Z")
            assert before <= datetime.fromisoformat(frame["created_at"]) <= datetime.now(UTC)
        # An admin's API token may announce too.
        token = (await make_token(http, admin))["token"]
        assert (await http.post(PATH, json={"body": "again"}, headers=bearer(token))).status_code == 202
        assert (await everywhere.recv_type("announcement"))["body"] == "again"
        await room_socket.send({"type": "ping"})
        assert await room_socket.recv_type("pong") == {"type": "pong"}
    entries = (await http.get("/api/admin/audit", headers=admin.headers)).json()["entries"]
    assert [(e["action"], e["detail"], e["actor"]["id"]) for e in entries] == [
        ("announcement", {"body": "again"}, admin.id),
        ("announcement", {"body": body}, admin.id),
    ]


BAD_BODIES: list[Any] = [
    {},
    {"body": ""},
    {"body": " \n\t "},
    {"body": "x" * 4001},
    {"body": "bell \x07"},
    {"body": "nul \x00"},
    {"body": "\ud800"},
    {"body": 5},
    {"body": None},
    {"body": ["a"]},
    [],
    "just a string",
]


async def test_bodies_follow_the_message_rules(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    assert live_server.app is not None
    admin = await site_admin(live_server.app)
    headers = {**admin.headers, "Content-Type": "application/json"}
    async with multiplexed(live_server, admin) as listener:
        for body in BAD_BODIES:
            response = await http.post(PATH, content=json.dumps(body), headers=headers)
            assert response.status_code == 422, (body, response.text)
        await listener.expect_silence(0.2)
        assert (await http.post(PATH, json={"body": "é" * 4000}, headers=admin.headers)).status_code == 202
        assert (await listener.recv_type("announcement"))["body"] == "é" * 4000


async def test_only_site_admins_announce(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    assert live_server.app is not None
    (ada,) = await store_accounts(live_server.app, [{"username": "ada"}])
    token = (await make_token(http, ada))["token"]
    async with multiplexed(live_server, ada) as listener:
        for headers in (ada.headers, bearer(token)):
            assert (await http.post(PATH, json={"body": "hi"}, headers=headers)).status_code == 403
        assert (await http.post(PATH, json={"body": "hi"})).status_code == 401
        await listener.expect_silence(0.2)
