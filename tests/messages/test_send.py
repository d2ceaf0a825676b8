"""POST /api/rooms/{room_id}/messages: storing, body rules, nonces, and the send rate limit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from api.main import create_app
from api.messages.models import Message
from tests.conftest import make_settings
from tests.factories import Account, create_room, join, send, signup
from tests.rooms.helpers import HOSTILE_TEXTS, NewAccount, context_of, refuse_server_errors


def messages_url(room: dict[str, Any]) -> str:
    return f"/api/rooms/{room['id']}/messages"


async def post(
    client: httpx.AsyncClient, account: Account, room: dict[str, Any], payload: Any
) -> httpx.Response:
    return await client.post(messages_url(room), json=payload, headers=account.headers)


async def stored_count(app: FastAPI) -> int:
    async with context_of(app).db.session() as session:
        return await session.scalar(select(func.count()).select_from(Message)) or 0


async def test_a_send_is_stored_and_returned_with_201(
    client: httpx.AsyncClient, new_account: NewAccount
) -> None:
    ada = await new_account()
    room = await create_room(client, ada)
    response = await post(client, ada, room, {"body": "hello"})
    assert response.status_code == 201
    message = response.json()
    assert set(message) == {
        "id",
        "room_id",
        "seq",
        "rev",
        "author",
        "body",
        "created_at",
        "edited_at",
        "deleted",
        "reply_to",
        "mentions",
        "reactions",
    }
    assert (message["reply_to"], message["mentions"], message["reactions"]) == (None, [], [])
    assert message["room_id"] == room["id"]
    assert message["seq"] == 1
    assert message["author"] == ada.summary
    assert message["body"] == "hello"
    assert message["created_at"].endswith("Z")
    assert message["edited_at"] is None
    assert message["deleted"] is False
    second = await post(client, ada, room, {"body": "again"})
    assert second.json()["seq"] == 2
    history = await client.get(messages_url(room), headers=ada.headers)
    assert history.json()["messages"] == [message, second.json()]


async def test_hostile_bodies_come_back_byte_for_byte(
    client: httpx.AsyncClient, new_account: NewAccount
) -> None:
    ada = await new_account()
    room = await create_room(client, ada)
    for text in HOSTILE_TEXTS:
        sent = await post(client, ada, room, {"body": text})
        assert sent.status_code == 201, text
        assert sent.json()["body"] == text
    history = await client.get(messages_url(room), headers=ada.headers)
    assert [m["body"].encode() for m in history.json()["messages"]] == [t.encode() for t in HOSTILE_TEXTS]


async def test_bodies_are_stripped_of_outer_white_space_only(
    client: httpx.AsyncClient, new_account: NewAccount
) -> None:
    ada = await new_account()
    room = await create_room(client, ada)
    for sent, stored in [
        ("  padded  ", "padded"),
        ("\n\tlines\n inside \n\n", "lines\n inside"),
        ("\u3000ideographic space\u2003", "ideographic space"),
        ("tab\tand\nnewline", "tab\tand\nnewline"),
        ("x", "x"),
    ]:
        response = await post(client, ada, room, {"body": sent})
        assert response.status_code == 201, repr(sent)
        assert response.json()["body"] == stored


@pytest.mark.parametrize(
    "unit",
    ["a", "é", "中", "😀", "\U0001f9d1\u200d"],
    ids=["ascii", "two-byte", "three-byte", "emoji", "zwj"],
)
async def test_4000_code_points_pass_and_4001_do_not(
    client: httpx.AsyncClient, unit: str, new_account: NewAccount
) -> None:
    ada = await new_account()
    room = await create_room(client, ada)
    body = (unit * 4000)[:4000]
    accepted = await post(client, ada, room, {"body": body})
    assert accepted.status_code == 201
    assert accepted.json()["body"] == body
    padded = await post(client, ada, room, {"body": f"  {body}\n"})
    assert padded.status_code == 201  # the limit applies after stripping
    refused = await post(client, ada, room, {"body": (unit * 4001)[:4001]})
    assert refused.status_code == 422
    assert "4000" in str(refused.json()["detail"])


async def test_empty_bodies_are_refused(
    client: httpx.AsyncClient, app: FastAPI, new_account: NewAccount
) -> None:
    ada = await new_account()
    room = await create_room(client, ada)
    for body in ["", " ", "\n\t \n", "\u3000", "\u2028"]:
        response = await post(client, ada, room, {"body": body})
        assert response.status_code == 422, repr(body)
    assert await stored_count(app) == 0


async def test_control_characters_other_than_newline_and_tab_are_refused(
    client: httpx.AsyncClient, app: FastAPI, new_account: NewAccount
) -> None:
    ada = await new_account()
    room = await create_room(client, ada)
    for char in ["\x00", "\x01", "\x07", "\x1b", "\r", "\x0b", "\x0c", "\x7f", "\x85", "\x9f"]:
        response = await post(client, ada, room, {"body": f"before{char}after"})
        assert response.status_code == 422, repr(char)
        assert "control" in str(response.json()["detail"])
    assert await stored_count(app) == 0


INVALID_SENDS: list[Any] = [
    {},
    {"nonce": "n1"},
    {"body": None},
    {"body": 42},
    {"body": ["hello"]},
    {"body": {"text": "hello"}},
    {"body": True},
    {"body": "ok", "nonce": ""},
    {"body": "ok", "nonce": "n" * 65},
    {"body": "ok", "nonce": "😀" * 65},
    {"body": "ok", "nonce": 7},
    {"body": "ok", "nonce": "bad\x00nonce"},
    {"body": "ok", "nonce": "tab\tnonce"},
    [],
    "hello",
    None,
]


async def test_invalid_sends_get_422(
    client: httpx.AsyncClient, app: FastAPI, new_account: NewAccount
) -> None:
    ada = await new_account()
    room = await create_room(client, ada)
    for payload in INVALID_SENDS:
        response = await post(client, ada, room, payload)
        assert response.status_code == 422, payload
        assert response.json()["detail"]
    assert await stored_count(app) == 0


async def test_malformed_json_gets_422(
    client: httpx.AsyncClient, app: FastAPI, new_account: NewAccount
) -> None:
    ada = await new_account()
    room = await create_room(client, ada)
    for raw in [
        b"",
        b"not json",
        b'{"body": "x"',
        b"{'body': 'x'}",
        b"\xff\xfe",
    ]:
        response = await client.post(
            messages_url(room), content=raw, headers={**ada.headers, "Content-Type": "application/json"}
        )
        assert response.status_code == 422, raw
    assert await stored_count(app) == 0


# FastAPI's default 422 handler echoes the refused input, and cannot encode NaN or a lone
# surrogate as JSON: these get a 500 until api/errors.py renders validation errors safely.


@pytest.mark.parametrize(
    "raw",
    [
        b'{"body": NaN}',
        b'{"body": "ok", "nonce": Infinity}',
        b'{"body": "\\ud800 lone"}',
        b'{"body": "ok", "nonce": "\\udfff"}',
    ],
    ids=["NaN body", "Infinity nonce", "lone surrogate body", "lone surrogate nonce"],
)
async def test_input_json_cannot_echo_gets_422(
    client: httpx.AsyncClient, raw: bytes, new_account: NewAccount
) -> None:
    ada = await new_account()
    room = await create_room(client, ada)
    response = await client.post(
        messages_url(room), content=raw, headers={**ada.headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 422


async def test_nonces_of_1_to_64_characters_make_a_send_idempotent(
    client: httpx.AsyncClient, app: FastAPI, new_account: NewAccount
) -> None:
    ada = await new_account()
    room = await create_room(client, ada)
    nonces = ["n", "x" * 64, "😀" * 64, "550e8400-e29b-41d4-a716-446655440000", "<b>é</b>", "' OR 1=1; --"]
    for nonce in nonces:
        first = await post(client, ada, room, {"body": "once", "nonce": nonce})
        again = await post(client, ada, room, {"body": "once", "nonce": nonce})
        assert first.status_code == 201, nonce
        assert again.status_code == 200
        assert again.json() == first.json()
    assert await stored_count(app) == len(nonces)


async def test_a_repeated_nonce_returns_the_stored_message_even_with_another_body(
    client: httpx.AsyncClient, app: FastAPI, new_account: NewAccount
) -> None:
    ada = await new_account()
    room = await create_room(client, ada)
    first = await post(client, ada, room, {"body": "original", "nonce": "k"})
    await post(client, ada, room, {"body": "in between"})
    again = await post(client, ada, room, {"body": "changed", "nonce": "k"})
    assert again.status_code == 200
    assert again.json() == first.json()
    assert again.json()["body"] == "original"
    assert await stored_count(app) == 2


async def test_racing_sends_with_one_nonce_store_one_message(
    client: httpx.AsyncClient, app: FastAPI, new_account: NewAccount
) -> None:
    ada = await new_account()
    room = await create_room(client, ada)
    responses = await asyncio.gather(
        *(post(client, ada, room, {"body": "hi", "nonce": "race"}) for _ in range(10))
    )
    assert sorted(r.status_code for r in responses) == [200] * 9 + [201]
    assert len({(r.json()["id"], r.json()["seq"]) for r in responses}) == 1
    assert await stored_count(app) == 1


async def test_the_same_nonce_from_another_author_or_room_is_a_new_message(
    client: httpx.AsyncClient, app: FastAPI, new_account: NewAccount
) -> None:
    ada, bob = await new_account(), await new_account()
    room, other_room = await create_room(client, ada), await create_room(client, ada)
    await join(client, bob, room["id"])
    first = await post(client, ada, room, {"body": "a", "nonce": "same"})
    by_bob = await post(client, bob, room, {"body": "b", "nonce": "same"})
    elsewhere = await post(client, ada, other_room, {"body": "c", "nonce": "same"})
    assert [r.status_code for r in (first, by_bob, elsewhere)] == [201, 201, 201]
    assert by_bob.json()["seq"] == 2
    assert elsewhere.json()["seq"] == 1
    assert len({first.json()["id"], by_bob.json()["id"], elsewhere.json()["id"]}) == 3
    assert await stored_count(app) == 3


async def test_a_nonce_is_case_sensitive(
    client: httpx.AsyncClient, app: FastAPI, new_account: NewAccount
) -> None:
    ada = await new_account()
    room = await create_room(client, ada)
    await post(client, ada, room, {"body": "a", "nonce": "Key"})
    response = await post(client, ada, room, {"body": "b", "nonce": "key"})
    assert response.status_code == 201
    assert await stored_count(app) == 2


async def test_a_member_who_left_cannot_send(client: httpx.AsyncClient, new_account: NewAccount) -> None:
    ada, bob = await new_account(), await new_account()
    room = await create_room(client, ada)
    await join(client, bob, room["id"])
    await send(client, bob, room["id"], "while a member", nonce="n")
    assert (await client.post(f"/api/rooms/{room['id']}/leave", headers=bob.headers)).status_code == 204
    response = await post(client, bob, room, {"body": "after leaving", "nonce": "n"})
    assert response.status_code == 403


# --- the per-user send rate limit --------------------------------------------------------


@pytest.fixture
async def limited(database_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """An app whose users may send 3 messages at once and then 1 a second."""
    application = create_app(make_settings(database_url, tmp_path, send_rate=1, send_burst=3))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        hooks = {"response": [refuse_server_errors]}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://hubbub.test", event_hooks=hooks
        ) as http:
            yield http


async def test_sending_faster_than_the_limit_gets_429_until_the_bucket_refills(
    limited: httpx.AsyncClient,
) -> None:
    ada, bob = await signup(limited), await signup(limited)
    room = await create_room(limited, ada)
    await join(limited, bob, room["id"])
    codes = [(await post(limited, ada, room, {"body": f"m{i}"})).status_code for i in range(3)]
    assert codes == [201, 201, 201]
    refused = await post(limited, ada, room, {"body": "one too many"})
    assert refused.status_code == 429
    assert refused.headers["Retry-After"].isdigit()
    assert 1 <= int(refused.headers["Retry-After"]) <= 2
    other = await post(limited, bob, room, {"body": "bob has his own bucket"})
    assert other.status_code == 201
    history = await limited.get(messages_url(room), headers=ada.headers)
    assert [m["body"] for m in history.json()["messages"]] == ["m0", "m1", "m2", "bob has his own bucket"]
    await asyncio.sleep(1.05)
    assert (await post(limited, ada, room, {"body": "a second later"})).status_code == 201
    assert (await post(limited, ada, room, {"body": "too soon again"})).status_code == 429
