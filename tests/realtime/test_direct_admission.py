"""A direct room's socket admits its two members; site admins and anyone else get 4404."""

from __future__ import annotations

import httpx
from sqlalchemy import update

from api.auth.models import User
from api.context import AppContext
from tests.factories import signup
from tests.realtime.client import joined, refused, room_path
from tests.servers import LiveServer


async def test_only_the_two_members_take_part(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    ada, bob, eve, admin = [await signup(http, name) for name in ("ada", "bob", "eve", "admin")]
    assert live_server.app is not None
    context: AppContext = live_server.app.state.context
    async with context.db.writing() as session:
        await session.execute(update(User).where(User.id == admin.id).values(is_admin=True))
    opened = await http.post("/api/direct", json={"username": "bob"}, headers=ada.headers)
    room_id = opened.json()["id"]
    async with joined(live_server, ada, room_id) as first, joined(live_server, bob, room_id) as second:
        await first.say("hello bob")
        assert (await second.recv_type("message"))["message"]["body"] == "hello bob"
    for outsider in (eve, admin):
        assert await refused(live_server, room_path(room_id, outsider.token)) == (4404, "room_not_found")
