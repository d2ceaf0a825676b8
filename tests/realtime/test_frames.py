"""Client frames and the server's answers: messages, typing, ping, auth, and every error."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from api.auth.tokens import TokenType, issue_token
from tests.conftest import make_settings
from tests.factories import create_room, send, signup
from tests.realtime.client import joined, pair_in_room
from tests.servers import LiveServer, serve_in_process

KEY = "test-secret-" + "x" * 40


async def test_a_message_reaches_everyone_with_its_nonce(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    ada, bob, room_id = await pair_in_room(http)
    async with joined(live_server, ada, room_id) as a, joined(live_server, bob, room_id) as b:
        await a.say("  <b>hi</b> & 'bye' \n ", nonce="n-1")
        for client in (a, b):
            frame = await client.recv_type("message")
            assert frame["nonce"] == "n-1"
            message = frame["message"]
            assert message["body"] == "<b>hi</b> & 'bye'"
            assert message["seq"] == 1
            assert message["author"] == ada.summary
            assert message["room_id"] == room_id
            assert message["deleted"] is False and message["edited_at"] is None
    stored = (await http.get(f"/api/rooms/{room_id}/messages", headers=ada.headers)).json()
    assert [m["body"] for m in stored["messages"]] == ["<b>hi</b> & 'bye'"]


async def test_a_repeated_nonce_answers_the_sender_alone(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    ada, bob, room_id = await pair_in_room(http)
    async with joined(live_server, ada, room_id) as a, joined(live_server, bob, room_id) as b:
        await a.say("once", nonce="same")
        first = await a.recv_type("message")
        await b.recv_type("message")
        await a.say("once", nonce="same")
        again = await a.recv_type("message")
        assert again == first
        await b.expect_silence()
    page = (await http.get(f"/api/rooms/{room_id}/messages", headers=ada.headers)).json()
    assert len(page["messages"]) == 1


async def test_a_repeated_nonce_is_not_answered_ahead_of_the_rooms_order(
    live_server: LiveServer, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A resend of a message stored, but not yet delivered here (the worker that stored it
    stopped before publishing): the change itself comes, once, in rev order, with the nonce,
    and no early answer jumps ahead of the room's order."""
    ada, bob, room_id = await pair_in_room(http)
    assert live_server.app is not None
    events = live_server.app.state.context.events

    async def unpublished(*_: object) -> None:
        pass

    async with joined(live_server, ada, room_id) as client:
        with monkeypatch.context() as patch:
            patch.setattr(events, "messages_stored", unpublished)
            await send(http, ada, room_id, "held back", nonce="resent")  # rev 1, never published
        await client.say("held back", nonce="resent")
        await client.expect_silence()
        await send(http, bob, room_id, "next")  # rev 2 arrives; rev 1 is read to fill the gap
        frames = [await client.recv_type("message", timeout=10) for _ in range(2)]
        assert [(f["rev"], f["nonce"]) for f in frames] == [(1, "resent"), (2, None)]
        await client.expect_silence()


async def test_typing_reaches_the_others_only(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    ada, bob, room_id = await pair_in_room(http)
    async with joined(live_server, ada, room_id) as a, joined(live_server, bob, room_id) as b:
        await a.recv_type("join")  # bob arrived
        await a.send({"type": "typing"})
        assert await b.recv_type("typing") == {"type": "typing", "room_id": room_id, "user": ada.summary}
        await a.send({"type": "ping"})
        assert await a.recv() == {"type": "pong"}  # and no typing frame came back first


async def test_ping_pong(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    ada = await signup(http, "ada")
    room_id = (await create_room(http, ada))["id"]
    async with joined(live_server, ada, room_id) as client:
        await client.send({"type": "ping", "extra": [1, 2]})
        assert await client.recv() == {"type": "pong"}


BAD_FRAMES: list[tuple[str, str, str | None]] = [
    ("not json", "invalid_json", None),
    ("{", "invalid_json", None),
    ("", "invalid_json", None),
    ("[]", "invalid_frame", None),
    ("42", "invalid_frame", None),
    ('"message"', "invalid_frame", None),
    ("null", "invalid_frame", None),
    ("{}", "invalid_frame", None),
    ('{"type": 5}', "invalid_frame", None),
    ('{"type": null}', "invalid_frame", None),
    ('{"type": "dance"}', "unknown_type", None),
    ('{"type": "MESSAGE", "body": "x"}', "unknown_type", None),
    ('{"type": "message"}', "invalid_frame", None),
    ('{"type": "message", "body": 5}', "invalid_frame", None),
    ('{"type": "message", "body": ["x"], "nonce": "n1"}', "invalid_frame", "n1"),
    ('{"type": "message", "body": "x", "nonce": 7}', "invalid_frame", None),
    ('{"type": "message", "body": "x", "nonce": ""}', "invalid_frame", None),
    ('{"type": "message", "body": "x", "nonce": "' + "n" * 65 + '"}', "invalid_frame", None),
    ('{"type": "message", "body": "x", "nonce": "a\\u0000b"}', "invalid_frame", None),
    ('{"type": "message", "body": "", "nonce": "n2"}', "empty_body", "n2"),
    ('{"type": "message", "body": " \\n\\t "}', "empty_body", None),
    ('{"type": "message", "body": "' + "x" * 4001 + '", "nonce": "n3"}', "body_too_long", "n3"),
    ('{"type": "message", "body": "' + "é" * 4001 + '"}', "body_too_long", None),
    ('{"type": "message", "body": "bell\\u0007", "nonce": "n4"}', "invalid_body", "n4"),
    ('{"type": "message", "body": "nul\\u0000"}', "invalid_body", None),
    ('{"type": "message", "body": "c1\\u0085x"}', "invalid_body", None),
    ('{"type": "auth"}', "invalid_frame", None),
    ('{"type": "auth", "token": 5}', "invalid_frame", None),
    ('{"type": "auth", "token": "garbage"}', "invalid_token", None),
]


async def test_every_bad_frame_gets_its_error_and_the_connection_stays(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    ada = await signup(http, "ada")
    room_id = (await create_room(http, ada))["id"]
    async with joined(live_server, ada, room_id) as client:
        for index, (text, code, nonce) in enumerate(BAD_FRAMES):
            if index and index % 40 == 0:
                await asyncio.sleep(1)  # stay under the per-connection frame limit
            await client.send(text)
            error = await client.recv()
            assert error["type"] == "error", text
            assert error["code"] == code, text
            assert error.get("nonce") == nonce, text
            assert isinstance(error["detail"], str) and error["detail"]
        await client.connection.send(b"\x00binary\xff")
        assert (await client.recv())["code"] == "invalid_frame"
        await client.say("still here")
        assert (await client.recv_type("message"))["message"]["body"] == "still here"
    page = (await http.get(f"/api/rooms/{room_id}/messages", headers=ada.headers)).json()
    assert [m["body"] for m in page["messages"]] == ["still here"]


async def test_a_body_of_exactly_4000_characters_is_accepted(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    ada = await signup(http, "ada")
    room_id = (await create_room(http, ada))["id"]
    async with joined(live_server, ada, room_id) as client:
        await client.say("🙂" * 4000)
        assert (await client.recv_type("message"))["message"]["body"] == "🙂" * 4000


async def test_a_frame_over_64_kib_closes_with_1009(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    ada = await signup(http, "ada")
    room_id = (await create_room(http, ada))["id"]
    async with joined(live_server, ada, room_id) as client:
        await client.send(json.dumps({"type": "ping", "pad": "x" * 65 * 1024}))
        code, _ = await client.closed()
        assert code == 1009
    async with joined(live_server, ada, room_id) as client:
        await client.send("y" * (64 * 1024 - 10))  # under the limit: an error frame, not a close
        assert (await client.recv())["code"] == "invalid_json"


async def test_more_than_50_frames_a_second_are_refused(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    ada = await signup(http, "ada")
    room_id = (await create_room(http, ada))["id"]
    async with joined(live_server, ada, room_id) as client:
        for _ in range(80):
            await client.send({"type": "ping"})
        answers = [await client.recv() for _ in range(80)]
        limited = [a for a in answers if a["type"] == "error"]
        assert all(a["code"] == "rate_limited" for a in limited)
        assert 20 <= len(limited) <= 35
        await asyncio.sleep(1.1)
        await client.send({"type": "ping"})
        assert await client.recv() == {"type": "pong"}


@pytest.fixture
async def limited_server(database_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    settings = make_settings(database_url, tmp_path, send_rate=1, send_burst=3)
    async with serve_in_process(settings) as server:
        yield server


async def test_the_send_limit_is_shared_with_http(limited_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=limited_server.http_url) as http:
        ada = await signup(http, "ada")
        room_id = (await create_room(http, ada))["id"]
        for index in range(2):
            response = await http.post(
                f"/api/rooms/{room_id}/messages", json={"body": f"http {index}"}, headers=ada.headers
            )
            assert response.status_code == 201
        async with joined(limited_server, ada, room_id) as client:
            await client.say("third", nonce="ok")
            assert (await client.recv_type("message"))["nonce"] == "ok"
            await client.say("fourth", nonce="too-fast")
            error = await client.recv_type("error")
            assert (error["code"], error["nonce"]) == ("rate_limited", "too-fast")
            response = await http.post(
                f"/api/rooms/{room_id}/messages", json={"body": "http"}, headers=ada.headers
            )
            assert response.status_code == 429
            assert int(response.headers["Retry-After"]) >= 1


async def test_auth_swaps_the_token(live_server: LiveServer, http: httpx.AsyncClient) -> None:
    ada, bob = await signup(http, "ada"), await signup(http, "bob")
    room_id = (await create_room(http, ada))["id"]
    fresh, claims = issue_token(
        key=KEY, user_id=ada.id, type=TokenType.access, lifetime=timedelta(minutes=30)
    )
    others, _ = issue_token(key=KEY, user_id=bob.id, type=TokenType.access, lifetime=timedelta(minutes=30))
    expired, _ = issue_token(key=KEY, user_id=ada.id, type=TokenType.access, lifetime=timedelta(seconds=-1))
    async with joined(live_server, ada, room_id) as client:
        await client.send({"type": "auth", "token": fresh})
        ok = await client.recv()
        assert ok == {"type": "auth_ok", "expires_at": claims.expires_at.isoformat().replace("+00:00", "Z")}
        for token in (others, expired, ada.refresh_token):
            await client.send({"type": "auth", "token": token})
            assert (await client.recv())["code"] == "invalid_token"


async def test_the_connection_closes_when_its_token_expires(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    ada = await signup(http, "ada")
    room_id = (await create_room(http, ada))["id"]
    short, _ = issue_token(key=KEY, user_id=ada.id, type=TokenType.access, lifetime=timedelta(seconds=2))
    async with joined(live_server, replace(ada, token=short), room_id) as client:
        assert await client.closed(timeout=10) == (4401, "token_expired")


async def test_an_auth_frame_keeps_the_connection_open(
    live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    ada = await signup(http, "ada")
    room_id = (await create_room(http, ada))["id"]
    # The connection's token is made just before it connects, so a slow machine cannot
    # spend its lifetime on the setup.
    short, held = issue_token(key=KEY, user_id=ada.id, type=TokenType.access, lifetime=timedelta(seconds=4))
    async with joined(live_server, replace(ada, token=short), room_id) as client:
        fresh, _ = issue_token(key=KEY, user_id=ada.id, type=TokenType.access, lifetime=timedelta(minutes=5))
        await client.send({"type": "auth", "token": fresh})
        assert (await client.recv())["type"] == "auth_ok"
        await asyncio.sleep(max(0.0, (held.expires_at - datetime.now(UTC)).total_seconds()) + 1)
        await client.send({"type": "ping"})
        assert await client.recv() == {"type": "pong"}
