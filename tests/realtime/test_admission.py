"""Every admission refusal of the spec: a completed handshake, then the close code and reason."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
import pytest
from jose import jwt
from sqlalchemy import update

from api.auth.models import User
from api.auth.tokens import TokenType, issue_token
from api.context import AppContext
from tests.factories import create_room, invite, join, signup
from tests.realtime.client import joined, refused, room_path
from tests.servers import LiveServer

KEY = "test-secret-" + "x" * 40


async def test_a_member_is_admitted(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    ada = await signup(http, "ada")
    room = await create_room(http, ada)
    async with joined(live_server, ada, room["id"]) as client:
        assert client.history == {
            "type": "history",
            "room_id": room["id"],
            "messages": [],
            "last_seq": 0,
            "last_rev": 0,
            "truncated": False,
        }
        assert client.presence == {"type": "presence", "room_id": room["id"], "users": [ada.summary]}


async def test_token_refusals(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    ada = await signup(http, "ada")
    room_id = (await create_room(http, ada))["id"]
    expired, _ = issue_token(key=KEY, user_id=ada.id, type=TokenType.access, lifetime=timedelta(seconds=-1))
    now = int(time.time())
    forged = jwt.encode(
        {"sub": str(ada.id), "exp": now + 60, "iat": now, "jti": "x", "type": "access"}, "k" * 40
    )
    cases = {
        room_path(room_id, None): (4401, "token_missing"),
        room_path(room_id, ""): (4401, "token_missing"),
        room_path(room_id, "garbage"): (4401, "token_invalid"),
        room_path(room_id, forged): (4401, "token_invalid"),
        room_path(room_id, ada.refresh_token): (4401, "token_invalid"),
        room_path(room_id, expired): (4401, "token_expired"),
    }
    for path, expected in cases.items():
        assert await refused(live_server, path) == expected, path


async def test_room_refusals(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    owner, outsider = await signup(http, "owner"), await signup(http, "outsider")
    public = (await create_room(http, owner))["id"]
    private = (await create_room(http, owner, private=True))["id"]
    for room_id in ("999999", "abc", "-1", "0", "1.5", "99999999999999999999999", private):
        assert await refused(live_server, room_path(room_id, outsider.token)) == (4404, "room_not_found")
    assert await refused(live_server, room_path(public, outsider.token)) == (1008, "not_member")


async def test_a_banned_user_is_refused(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    owner, pest = await signup(http, "owner"), await signup(http, "pest")
    public = (await create_room(http, owner))["id"]
    private = (await create_room(http, owner, private=True))["id"]
    await join(http, pest, public)
    await invite(http, owner, private, pest)
    for room_id in (public, private):
        response = await http.post(
            f"/api/rooms/{room_id}/bans", json={"user_id": pest.id}, headers=owner.headers
        )
        assert response.status_code == 201
    assert await refused(live_server, room_path(public, pest.token)) == (1008, "banned")
    assert await refused(live_server, room_path(private, pest.token)) == (4404, "room_not_found")


async def test_a_site_admin_must_still_be_a_member(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    owner, admin = await signup(http, "owner"), await signup(http, "admin")
    assert live_server.app is not None
    context: AppContext = live_server.app.state.context
    async with context.db.writing() as session:
        await session.execute(update(User).where(User.id == admin.id).values(is_admin=True))
    private = (await create_room(http, owner, private=True))["id"]
    public = (await create_room(http, owner))["id"]
    assert await refused(live_server, room_path(private, admin.token)) == (4404, "room_not_found")
    assert await refused(live_server, room_path(public, admin.token)) == (1008, "not_member")


async def test_a_deactivated_account_is_refused(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    ada = await signup(http, "ada")
    room_id = (await create_room(http, ada))["id"]
    assert live_server.app is not None
    context: AppContext = live_server.app.state.context
    async with context.db.writing() as session:
        await session.execute(update(User).values(is_active=False))
    assert await refused(live_server, room_path(room_id, ada.token)) == (1008, "account_disabled")


@pytest.mark.parametrize("since", ["-1", "abc", "1.5", "", "1e3", "٣", "99999999999999999999999"])
async def test_a_bad_since_is_refused(live_server: LiveServer, http: httpx.AsyncClient, since: str) -> None:
    ada = await signup(http, "ada")
    room_id = (await create_room(http, ada))["id"]
    path = f"/ws/rooms/{room_id}?token={ada.token}&since={since}"
    assert await refused(live_server, path) == (1008, "invalid_parameter")


async def test_refusals_come_before_any_data_frame(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    """The refusal is a close frame right after the handshake: no history leaks first."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    owner, outsider = await signup(http, "owner"), await signup(http, "outsider")
    private = (await create_room(http, owner, private=True))["id"]
    async with connect(live_server.ws_url(room_path(private, outsider.token))) as connection:
        with pytest.raises(ConnectionClosed) as closed:
            await connection.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4404
