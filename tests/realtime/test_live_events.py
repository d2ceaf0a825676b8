"""What REST changes do to live connections: edits, deletes, memberships, and the closes."""

from __future__ import annotations

import httpx
from sqlalchemy import update

from api.auth.models import User
from api.context import AppContext
from tests.factories import create_room, invite, join, send, signup
from tests.realtime.client import joined, pair_in_room
from tests.servers import LiveServer


async def make_admin(server: LiveServer, user_id: int) -> None:
    assert server.app is not None
    context: AppContext = server.app.state.context
    async with context.db.writing() as session:
        await session.execute(update(User).where(User.id == user_id).values(is_admin=True))


async def test_http_sends_edits_and_deletes_arrive_live(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    ada, bob, room_id = await pair_in_room(http)
    async with joined(live_server, ada, room_id) as client:
        message = await send(http, bob, room_id, "typo", nonce="k1")
        frame = await client.recv_type("message")
        assert frame == {"type": "message", "room_id": room_id, "message": message, "nonce": "k1", "rev": 1}
        edited = await http.patch(
            f"/api/rooms/{room_id}/messages/1", json={"body": "fixed"}, headers=bob.headers
        )
        edit = await client.recv_type("edit")
        assert edit == {"type": "edit", "room_id": room_id, "message": edited.json(), "rev": 2}
        assert edit["message"]["body"] == "fixed" and edit["message"]["edited_at"]
        await http.delete(f"/api/rooms/{room_id}/messages/1", headers=bob.headers)
        assert await client.recv_type("delete") == {"type": "delete", "room_id": room_id, "seq": 1, "rev": 3}


async def test_membership_changes_arrive_live(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    ada, bob = await signup(http, "ada"), await signup(http, "bob")
    room_id = (await create_room(http, ada))["id"]
    async with joined(live_server, ada, room_id) as client:
        await join(http, bob, room_id)
        added = await client.recv_type("membership")
        assert (added["event"], added["user"], added["role"]) == ("added", bob.summary, "member")
        await http.patch(
            f"/api/rooms/{room_id}/members/{bob.id}", json={"role": "admin"}, headers=ada.headers
        )
        updated = await client.recv_type("membership")
        assert (updated["event"], updated["role"]) == ("updated", "admin")


async def test_a_kick_closes_the_kicked_users_connections(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    ada, bob, room_id = await pair_in_room(http)
    async with (
        joined(live_server, ada, room_id) as a,
        joined(live_server, bob, room_id) as b1,
        joined(live_server, bob, room_id) as b2,
    ):
        response = await http.delete(f"/api/rooms/{room_id}/members/{bob.id}", headers=ada.headers)
        assert response.status_code == 204
        assert await b1.closed() == (1008, "removed")
        assert await b2.closed() == (1008, "removed")
        removed = await a.recv_type("membership")
        assert (removed["event"], removed["user"]) == ("removed", bob.summary)
        assert (await a.recv_type("leave"))["user"] == bob.summary
        await a.send({"type": "ping"})
        assert await a.recv() == {"type": "pong"}


async def test_leaving_closes_with_left(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    _, bob, room_id = await pair_in_room(http)
    async with joined(live_server, bob, room_id) as client:
        assert (await http.post(f"/api/rooms/{room_id}/leave", headers=bob.headers)).status_code == 204
        assert await client.closed() == (1008, "left")
    await join(http, bob, room_id)
    async with joined(live_server, bob, room_id) as client:
        response = await http.delete(f"/api/rooms/{room_id}/members/{bob.id}", headers=bob.headers)
        assert response.status_code == 204
        assert await client.closed() == (1008, "left")


async def test_a_ban_closes_with_banned(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    ada, bob = await signup(http, "ada"), await signup(http, "bob")
    room_id = (await create_room(http, ada, private=True))["id"]
    await invite(http, ada, room_id, bob)
    async with joined(live_server, bob, room_id) as client:
        response = await http.post(
            f"/api/rooms/{room_id}/bans", json={"user_id": bob.id}, headers=ada.headers
        )
        assert response.status_code == 201
        assert await client.closed() == (1008, "banned")


async def test_deactivation_closes_every_connection_of_the_account(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    ada, bob, root = await signup(http, "ada"), await signup(http, "bob"), await signup(http, "root")
    await make_admin(live_server, root.id)
    first = (await create_room(http, ada))["id"]
    second = (await create_room(http, ada))["id"]
    for room_id in (first, second):
        await join(http, bob, room_id)
    async with (
        joined(live_server, bob, first) as one,
        joined(live_server, bob, second) as two,
        joined(live_server, ada, first) as bystander,
    ):
        response = await http.patch(
            f"/api/admin/users/{bob.id}", json={"is_active": False}, headers=root.headers
        )
        assert response.status_code == 200
        assert await one.closed() == (1008, "account_disabled")
        assert await two.closed() == (1008, "account_disabled")
        await bystander.send({"type": "ping"})
        assert (await bystander.recv_type("pong"))["type"] == "pong"


async def test_deleting_a_room_closes_its_connections(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    ada, bob, root = await signup(http, "ada"), await signup(http, "bob"), await signup(http, "root")
    await make_admin(live_server, root.id)
    rooms = [(await create_room(http, ada))["id"] for _ in range(2)]
    for room_id in rooms:
        await join(http, bob, room_id)
    async with joined(live_server, bob, rooms[0]) as a, joined(live_server, bob, rooms[1]) as b:
        assert (await http.delete(f"/api/rooms/{rooms[0]}", headers=ada.headers)).status_code == 204
        assert await a.closed() == (4404, "room_deleted")
        assert (await http.delete(f"/api/admin/rooms/{rooms[1]}", headers=root.headers)).status_code == 204
        assert await b.closed() == (4404, "room_deleted")
