"""Presence: who is here, once per user however many tabs, with join and leave on the edges."""

from __future__ import annotations

import re

import httpx

from tests.factories import create_room, signup
from tests.realtime.client import joined, pair_in_room
from tests.servers import LiveServer


async def test_presence_join_and_leave(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    ada, bob, room_id = await pair_in_room(http)
    async with joined(live_server, ada, room_id) as a:
        async with joined(live_server, bob, room_id) as b1:
            assert b1.presence is not None
            assert sorted(u["id"] for u in b1.presence["users"]) == sorted([ada.id, bob.id])
            assert await a.recv_type("join") == {"type": "join", "room_id": room_id, "user": bob.summary}
            async with joined(live_server, bob, room_id) as b2:
                # A second tab is the same presence: listed once, no second join.
                assert b2.presence is not None
                assert sorted(u["id"] for u in b2.presence["users"]) == sorted([ada.id, bob.id])
                members = (await http.get(f"/api/rooms/{room_id}/members", headers=ada.headers)).json()
                assert all(m["online"] for m in members)
            await a.expect_silence()  # closing one of two tabs is no leave
        assert await a.recv_type("leave") == {"type": "leave", "room_id": room_id, "user": bob.summary}
        members = (await http.get(f"/api/rooms/{room_id}/members", headers=ada.headers)).json()
        assert {m["user"]["id"]: m["online"] for m in members} == {ada.id: True, bob.id: False}


async def test_stats_count_connections(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    from sqlalchemy import update

    from api.auth.models import User
    from api.context import AppContext

    ada = await signup(http, "ada")
    assert live_server.app is not None
    context: AppContext = live_server.app.state.context
    async with context.db.writing() as session:
        await session.execute(update(User).values(is_admin=True))
    room_id = (await create_room(http, ada))["id"]
    async with joined(live_server, ada, room_id), joined(live_server, ada, room_id):
        stats = (await http.get("/api/admin/stats", headers=ada.headers)).json()
        assert stats["connections"] == 2
        metrics = (await http.get("/metrics")).text
        assert re.search(r'^hubbub_connections\{worker="[^"]+"\} 2\.0$', metrics, re.MULTILINE)
