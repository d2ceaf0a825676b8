"""SIGNUP=open|invite|closed, GET /api/auth/config, and accounts made by site admins."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from api.auth.models import Invite, User
from tests.auth.support import client_from, make_invite, running_app, signup_status, site_admin
from tests.factories import PASSWORD, login, signup
from tests.rooms.helpers import context_of, store_accounts

# Not live codes: wrong length, wrong alphabet (base64's `+`, `/`, `=`, a space, non-ASCII,
# NUL), a random one of the right shape, SQL.
WRONG_CODES = [
    "",
    "a",
    "A" * 31,
    "A" * 33,
    "A" * 256,
    "+" * 32,
    "A" * 31 + "=",
    "A" * 31 + "/",
    "A" * 31 + " ",
    "é" * 32,
    "A" * 31 + "\x00",
    "\ufffd" * 32,
    secrets.token_urlsafe(24),
    "' OR '1'='1' --                 ",
]


@pytest.mark.parametrize("mode", ["open", "invite", "closed"])
async def test_the_config_says_who_may_sign_up(database_url: str, tmp_path: Path, mode: str) -> None:
    async with running_app(database_url, tmp_path, signup=mode) as app, client_from(app) as http:
        response = await http.get("/api/auth/config")
    assert response.status_code == 200
    assert response.json() == {"signup": mode}


async def test_open_is_the_default_and_an_invite_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/api/auth/config")).json() == {"signup": "open"}
    assert (await signup_status(client, "plain")).status_code == 201
    assert (await signup_status(client, "garbage", invite="not a code")).status_code == 201


async def test_in_open_mode_a_valid_invite_is_not_spent(database_url: str, tmp_path: Path) -> None:
    async with running_app(database_url, tmp_path) as app, client_from(app) as http:
        admin = await site_admin(app)
        invite = await make_invite(http, admin)
        assert (await signup_status(http, "ada", invite=invite["code"])).status_code == 201
        listed = (await http.get("/api/admin/invites", headers=admin.headers)).json()
        assert [(i["id"], i["uses_left"]) for i in listed] == [(invite["id"], 1)]


async def test_invite_mode_needs_a_live_invite(database_url: str, tmp_path: Path) -> None:
    async with running_app(database_url, tmp_path, signup="invite") as app, client_from(app) as http:
        admin = await site_admin(app)
        invite = await make_invite(http, admin, uses=2)
        missing = await signup_status(http, "nobody")
        assert missing.status_code == 403
        assert "invite" in missing.json()["detail"]
        assert (await signup_status(http, "nulled", invite=None)).status_code == 403
        for code in WRONG_CODES:
            response = await signup_status(http, "guesser", invite=code)
            assert response.status_code == 403, code
        for bad in ["A" * 257, 123, ["x"], {"code": invite["code"]}, True]:
            response = await signup_status(http, "guesser", invite=bad)
            assert response.status_code == 422, bad
        # Nothing above spent a use.
        assert (await http.get("/api/admin/invites", headers=admin.headers)).json()[0]["uses_left"] == 2

        created = await signup_status(http, "Ada", invite=invite["code"], display_name="Ada L.")
        assert created.status_code == 201, created.text
        assert created.json()["display_name"] == "Ada L."
        assert (await login(http, "ada")).token
        listed = (await http.get("/api/admin/invites", headers=admin.headers)).json()
        assert listed[0]["uses_left"] == 1


async def test_a_used_up_invite_is_refused(database_url: str, tmp_path: Path) -> None:
    async with running_app(database_url, tmp_path, signup="invite") as app, client_from(app) as http:
        admin = await site_admin(app)
        invite = await make_invite(http, admin)
        assert (await signup_status(http, "first", invite=invite["code"])).status_code == 201
        assert (await signup_status(http, "second", invite=invite["code"])).status_code == 403
        assert (await http.get("/api/admin/invites", headers=admin.headers)).json() == []


async def test_an_expired_invite_is_refused(database_url: str, tmp_path: Path) -> None:
    async with running_app(database_url, tmp_path, signup="invite") as app, client_from(app) as http:
        admin = await site_admin(app)
        invite = await make_invite(http, admin, expires_days=1, uses=5)
        async with context_of(app).db.writing() as session:
            row = await session.get(Invite, invite["id"])
            assert row is not None
            row.expires_at = row.created_at.replace(year=row.created_at.year - 1)
        assert (await signup_status(http, "late", invite=invite["code"])).status_code == 403
        assert (await http.get("/api/admin/invites", headers=admin.headers)).json() == []


async def test_a_revoked_invite_is_refused(database_url: str, tmp_path: Path) -> None:
    async with running_app(database_url, tmp_path, signup="invite") as app, client_from(app) as http:
        admin = await site_admin(app)
        invite = await make_invite(http, admin, uses=3)
        revoked = await http.delete(f"/api/admin/invites/{invite['id']}", headers=admin.headers)
        assert revoked.status_code == 204
        assert (await signup_status(http, "late", invite=invite["code"])).status_code == 403


async def test_a_failed_signup_spends_no_use(database_url: str, tmp_path: Path) -> None:
    """Username taken (409) or an invalid body (422): the invite keeps its last use."""
    async with running_app(database_url, tmp_path, signup="invite") as app, client_from(app) as http:
        admin = await site_admin(app)
        await store_accounts(app, [{"username": "taken"}])
        invite = await make_invite(http, admin)
        assert (await signup_status(http, "TAKEN", invite=invite["code"])).status_code == 409
        short = await http.post(
            "/api/auth/signup", json={"username": "okay", "password": "short", "invite": invite["code"]}
        )
        assert short.status_code == 422
        assert (await http.get("/api/admin/invites", headers=admin.headers)).json()[0]["uses_left"] == 1
        assert (await signup_status(http, "okay", invite=invite["code"])).status_code == 201


async def test_closed_mode_refuses_every_signup(database_url: str, tmp_path: Path) -> None:
    async with running_app(database_url, tmp_path, signup="closed") as app, client_from(app) as http:
        admin = await site_admin(app)
        invite = await make_invite(http, admin)
        for fields in ({}, {"invite": invite["code"]}, {"invite": "x"}):
            response = await signup_status(http, "hopeful", **fields)
            assert response.status_code == 403, fields
            assert "closed" in response.json()["detail"]
        # An invalid body is refused as such before the mode is looked at.
        assert (await http.post("/api/auth/signup", json={"username": "x"})).status_code == 422
        assert (await http.get("/api/admin/invites", headers=admin.headers)).json()[0]["uses_left"] == 1
        made = await http.post(
            "/api/admin/users", json={"username": "grace", "password": PASSWORD}, headers=admin.headers
        )
        assert made.status_code == 201, made.text
        assert (await login(http, "grace")).token


async def test_site_admins_create_accounts(client: httpx.AsyncClient, app: FastAPI) -> None:
    admin = await site_admin(app)
    made = await client.post(
        "/api/admin/users",
        json={"username": "Grace", "password": PASSWORD, "display_name": "Grace H.", "is_admin": True},
        headers=admin.headers,
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert {k: body[k] for k in ("username", "display_name", "is_admin", "is_active")} == {
        "username": "Grace",
        "display_name": "Grace H.",
        "is_admin": True,
        "is_active": True,
    }
    assert "password" not in made.text and "hash" not in made.text
    grace = await login(client, "grace")
    assert (await client.get("/api/admin/stats", headers=grace.headers)).status_code == 200
    plain = await client.post(
        "/api/admin/users", json={"username": "plain", "password": PASSWORD}, headers=admin.headers
    )
    assert plain.json()["is_admin"] is False and plain.json()["display_name"] == "plain"


async def test_admin_made_accounts_refuse_what_signup_refuses(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    admin = await site_admin(app)
    user = await signup(client, "someone")
    taken = await client.post(
        "/api/admin/users", json={"username": "SOMEONE", "password": PASSWORD}, headers=admin.headers
    )
    assert taken.status_code == 409
    for body in [
        {"username": "ab", "password": PASSWORD},
        {"username": "has space", "password": PASSWORD},
        {"username": "x" * 33, "password": PASSWORD},
        {"username": "okname", "password": "short"},
        {"username": "okname", "password": "p" * 129},
        {"username": "okname", "password": PASSWORD, "display_name": "bad\x00name"},
        {"username": "okname", "password": PASSWORD, "display_name": "\ud800"},
        {"username": "okname", "password": PASSWORD, "is_admin": "yes please"},
        {"username": "okname"},
        {"password": PASSWORD},
        [],
        "okname",
    ]:
        # json.dumps escapes the lone surrogate as `\ud800`, as a hostile client would send it.
        response = await client.post(
            "/api/admin/users",
            content=json.dumps(body),
            headers={**admin.headers, "Content-Type": "application/json"},
        )
        assert response.status_code == 422, body
    refused = await client.post(
        "/api/admin/users", json={"username": "sneaky", "password": PASSWORD}, headers=user.headers
    )
    assert refused.status_code == 403
    anonymous = await client.post("/api/admin/users", json={"username": "sneaky", "password": PASSWORD})
    assert anonymous.status_code == 401
    async with context_of(app).db.session() as session:
        names = (await session.scalars(select(User.username_key))).all()
    assert sorted(names) == ["root", "someone"]


async def test_a_deactivated_admin_cannot_make_accounts(client: httpx.AsyncClient, app: FastAPI) -> None:
    admin = await site_admin(app)
    async with context_of(app).db.writing() as session:
        await session.execute(update(User).where(User.id == admin.id).values(is_active=False))
    response = await client.post(
        "/api/admin/users", json={"username": "ghostly", "password": PASSWORD}, headers=admin.headers
    )
    assert response.status_code == 401
