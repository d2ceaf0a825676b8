"""POST/GET/DELETE /api/me/tokens, and API tokens working wherever an access token does (REST)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event, select, text

from api.tokens import codec
from api.tokens.models import ApiToken
from tests.auth.support import site_admin
from tests.factories import create_room, send
from tests.rooms.fixtures import _no_server_errors, new_account
from tests.rooms.helpers import NewAccount, context_of
from tests.tokens.support import bearer, make_token, set_expiry, token_row

__all__ = ["_no_server_errors", "new_account"]

TOKEN_FIELDS = {"id", "name", "created_at", "expires_at", "last_used_at"}


async def me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/api/users/me", headers=bearer(token))


async def test_a_token_is_shown_once_and_works_as_its_user(
    client: httpx.AsyncClient, app: FastAPI, new_account: NewAccount
) -> None:
    ada = await new_account("ada")
    created = await make_token(client, ada, "  deploy script  ")
    assert set(created) == TOKEN_FIELDS | {"token"}
    assert created["name"] == "deploy script"
    assert created["expires_at"] is None and created["last_used_at"] is None
    token = created["token"]
    assert re.fullmatch(r"hbb_[0-9A-Za-z]{49}", token), token
    assert codec.well_formed(token)
    me_response = await me(client, token)
    assert me_response.status_code == 200
    assert me_response.json()["username"] == "ada"
    # It acts as its user elsewhere too: a room, a message.
    room = await create_room(client, ada)
    sent = await client.post(f"/api/rooms/{room['id']}/messages", json={"body": "hi"}, headers=bearer(token))
    assert sent.status_code == 201
    assert sent.json()["author"]["id"] == ada.id
    # Listed without its text; only a hash is stored.
    listed = (await client.get("/api/me/tokens", headers=ada.headers)).json()
    assert [set(t) for t in listed] == [TOKEN_FIELDS]
    assert listed[0]["id"] == created["id"]
    assert token not in str(listed)
    row = await token_row(app, created["id"])
    assert row.secret_hash == codec.secret_hash(token) != token
    async with context_of(app).db.session() as session:
        dump = [tuple(r) for r in await session.execute(text("SELECT * FROM api_tokens"))]
    assert token not in str(dump) and token[4:] not in str(dump)


async def test_tokens_are_random_with_at_least_256_bits() -> None:
    tokens = {codec.new_token() for _ in range(200)}
    assert len(tokens) == 200
    assert codec.RANDOM_CHARS * math.log2(len(codec.ALPHABET)) >= 256
    # Every character of the alphabet turns up in every position of the random part, eventually:
    # no position is fixed.
    for position in range(len(codec.PREFIX), len(codec.PREFIX) + codec.RANDOM_CHARS):
        assert len({token[position] for token in tokens}) > 40


async def test_expires_days_sets_the_expiry(client: httpx.AsyncClient, new_account: NewAccount) -> None:
    ada = await new_account()
    created = await make_token(client, ada, expires_days=30)
    lifetime = datetime.fromisoformat(created["expires_at"]) - datetime.fromisoformat(created["created_at"])
    assert lifetime == timedelta(days=30)
    assert (await make_token(client, ada, expires_days=3650))["expires_at"]
    assert (await make_token(client, ada, expires_days=None))["expires_at"] is None


BAD_REQUESTS: list[dict[str, Any]] = [
    {},
    {"name": ""},
    {"name": "   "},
    {"name": "x" * 101},
    {"name": "line\nbreak"},
    {"name": "bell\x07"},
    {"name": "\ud800"},
    {"name": 7},
    {"name": None},
    {"name": ["ci"]},
    {"name": "ci", "expires_days": 0},
    {"name": "ci", "expires_days": -1},
    {"name": "ci", "expires_days": 3651},
    {"name": "ci", "expires_days": "7"},
    {"name": "ci", "expires_days": 7.0},
    {"name": "ci", "expires_days": 1.5},
    {"name": "ci", "expires_days": True},
    {"name": "ci", "expires_days": 10**30},
]


async def test_bad_token_requests_are_422(client: httpx.AsyncClient, new_account: NewAccount) -> None:
    ada = await new_account()
    # As JSON text with escapes, so a lone surrogate reaches the server as JSON can spell it.
    headers = {**ada.headers, "Content-Type": "application/json"}
    for body in BAD_REQUESTS:
        response = await client.post("/api/me/tokens", content=json.dumps(body), headers=headers)
        assert response.status_code == 422, (body, response.text)
    assert (await client.get("/api/me/tokens", headers=ada.headers)).json() == []


async def test_names_of_100_characters_are_kept(client: httpx.AsyncClient, new_account: NewAccount) -> None:
    ada = await new_account()
    name = "é" * 99 + "😀"
    assert (await make_token(client, ada, name))["name"] == name


async def test_an_api_token_cannot_manage_tokens_or_log_out_everywhere(
    client: httpx.AsyncClient, new_account: NewAccount
) -> None:
    ada = await new_account()
    created = await make_token(client, ada)
    headers = bearer(created["token"])
    refusals = [
        await client.post("/api/me/tokens", json={"name": "another"}, headers=headers),
        await client.get("/api/me/tokens", headers=headers),
        await client.delete(f"/api/me/tokens/{created['id']}", headers=headers),
        await client.post("/api/auth/logout-all", headers=headers),
    ]
    for response in refusals:
        assert response.status_code == 403, response.request.url
        assert "API token" in response.json()["detail"]
    # Nothing was made or revoked, and the token still works.
    assert [t["id"] for t in (await client.get("/api/me/tokens", headers=ada.headers)).json()] == [
        created["id"]
    ]
    assert (await me(client, created["token"])).status_code == 200
    assert (await me(client, ada.token)).status_code == 200


async def test_revoking_stops_a_token_at_once(client: httpx.AsyncClient, new_account: NewAccount) -> None:
    ada = await new_account()
    first, second = await make_token(client, ada, "one"), await make_token(client, ada, "two")
    assert (await client.delete(f"/api/me/tokens/{first['id']}", headers=ada.headers)).status_code == 204
    response = await me(client, first["token"])
    assert (response.status_code, response.json()) == (401, {"detail": "Token revoked"})
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert (await me(client, second["token"])).status_code == 200
    assert [t["id"] for t in (await client.get("/api/me/tokens", headers=ada.headers)).json()] == [
        second["id"]
    ]
    # Already revoked: 404, and the other token is untouched.
    assert (await client.delete(f"/api/me/tokens/{first['id']}", headers=ada.headers)).status_code == 404
    assert (await me(client, second["token"])).status_code == 200


async def test_another_users_token_id_is_404(client: httpx.AsyncClient, new_account: NewAccount) -> None:
    ada, eve = await new_account(), await new_account()
    adas = await make_token(client, ada)
    for token_id in [str(adas["id"]), "424242", "abc", "0", "-1", "1.5", "99999999999999999999", "%00"]:
        response = await client.delete(f"/api/me/tokens/{token_id}", headers=eve.headers)
        assert response.status_code == 404, token_id
    assert (await me(client, adas["token"])).status_code == 200
    assert (await client.get("/api/me/tokens", headers=eve.headers)).json() == []


MANGLED: list[Callable[[str], str]] = [
    lambda t: "hbx_" + t[4:],  # the wrong prefix: read as an access token, and refused
    lambda t: "HBB_" + t[4:],
    lambda t: t[4:],
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # the checksum no longer matches
    lambda t: t[:10] + ("A" if t[10] != "A" else "B") + t[11:],
    lambda t: t + "x",
    lambda t: t[:-1],
    lambda t: "hbb_",
    lambda t: "hbb_" + "-" * 49,
    lambda t: "hbb_\x00" + t[5:],
    lambda t: "hbb_" + "é" * 49,
    lambda t: t + " x",
]


async def test_mangled_tokens_are_refused(client: httpx.AsyncClient, new_account: NewAccount) -> None:
    ada = await new_account()
    token = (await make_token(client, ada))["token"]
    for mangle in MANGLED:
        # Raw bytes: whatever a client can put in the header reaches the server.
        headers = {"Authorization": f"Bearer {mangle(token)}".encode()}
        response = await client.get("/api/users/me", headers=headers)
        assert response.status_code == 401, headers
        assert response.json() == {"detail": "Invalid token"}
    assert (await me(client, token)).status_code == 200


async def test_a_well_formed_token_nobody_made_is_invalid(client: httpx.AsyncClient) -> None:
    response = await me(client, codec.new_token())
    assert (response.status_code, response.json()) == (401, {"detail": "Invalid token"})


async def test_an_expired_token_is_refused(
    client: httpx.AsyncClient, app: FastAPI, new_account: NewAccount
) -> None:
    ada = await new_account()
    created = await make_token(client, ada, expires_days=1)
    await set_expiry(app, created["id"], datetime.now(UTC) - timedelta(seconds=1))
    response = await me(client, created["token"])
    assert (response.status_code, response.json()) == (401, {"detail": "Token expired"})
    assert (await client.get("/api/me/tokens", headers=ada.headers)).json() == []
    # Revoking an expired token is allowed (it changes nothing but the record).
    assert (await client.delete(f"/api/me/tokens/{created['id']}", headers=ada.headers)).status_code == 204


async def test_deactivation_revokes_api_tokens_for_good(
    client: httpx.AsyncClient, app: FastAPI, new_account: NewAccount
) -> None:
    admin = await site_admin(app)
    ada = await new_account()
    created = await make_token(client, ada)
    path = f"/api/admin/users/{ada.id}"
    assert (await client.patch(path, json={"is_active": False}, headers=admin.headers)).status_code == 200
    response = await me(client, created["token"])
    assert (response.status_code, response.json()) == (401, {"detail": "Account deactivated"})
    assert (await client.patch(path, json={"is_active": True}, headers=admin.headers)).status_code == 200
    response = await me(client, created["token"])
    assert (response.status_code, response.json()) == (401, {"detail": "Token revoked"})
    assert (await token_row(app, created["id"])).revoked_at is not None


async def test_logout_all_leaves_api_tokens_working(
    client: httpx.AsyncClient, new_account: NewAccount
) -> None:
    ada = await new_account()
    created = await make_token(client, ada)
    assert (await client.post("/api/auth/logout-all", headers=ada.headers)).status_code == 204
    assert (await me(client, ada.token)).status_code == 401
    assert (await me(client, created["token"])).status_code == 200


async def test_managing_tokens_needs_a_token(client: httpx.AsyncClient) -> None:
    for method, path in [
        ("POST", "/api/me/tokens"),
        ("GET", "/api/me/tokens"),
        ("DELETE", "/api/me/tokens/1"),
    ]:
        response = await client.request(method, path, json={"name": "x"})
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_an_api_token_of_a_site_admin_does_admin_work(
    client: httpx.AsyncClient, app: FastAPI, new_account: NewAccount
) -> None:
    admin = await site_admin(app)
    ada = await new_account()
    token = (await make_token(client, admin))["token"]
    assert (await client.get("/api/admin/stats", headers=bearer(token))).status_code == 200
    room = await create_room(client, ada)
    await send(client, ada, room["id"], "hello")
    assert (await client.delete(f"/api/admin/rooms/{room['id']}", headers=bearer(token))).status_code == 204


async def test_last_used_at_is_written_once_a_minute_not_per_request(
    client: httpx.AsyncClient, app: FastAPI, new_account: NewAccount
) -> None:
    ada = await new_account()
    created = await make_token(client, ada)
    writes: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("UPDATE API_TOKENS"):
            writes.append(statement)

    engine = context_of(app).db.write_engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        before = datetime.now(UTC)
        for _ in range(20):
            assert (await me(client, created["token"])).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(writes) == 1
    [listed] = (await client.get("/api/me/tokens", headers=ada.headers)).json()
    used = datetime.fromisoformat(listed["last_used_at"])
    assert before <= used <= datetime.now(UTC)
    async with context_of(app).db.session() as session:
        stored = await session.scalar(select(ApiToken.last_used_at).where(ApiToken.id == created["id"]))
    assert stored == used
