"""/api/admin/invites: making, listing and revoking invites, and racing for the last use."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from api.auth.models import Invite
from tests.auth.support import client_from, make_invite, running_app, signup_status, site_admin
from tests.conftest import MigratedDatabase, _asyncpg_dsn
from tests.rooms.helpers import MALFORMED_IDS, UNKNOWN_ID, context_of, store_accounts


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_an_invite_has_a_random_code_and_the_defaults(client: httpx.AsyncClient, app: FastAPI) -> None:
    admin = await site_admin(app)
    response = await client.post("/api/admin/invites", json={}, headers=admin.headers)
    assert response.status_code == 201
    invite = response.json()
    assert set(invite) == {"id", "code", "expires_at", "uses_left", "created_at"}
    assert invite["uses_left"] == 1
    # At least 128 random bits: 32 characters of the URL-safe base64 alphabet carry 192.
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", invite["code"])
    created, expires = parse_time(invite["created_at"]), parse_time(invite["expires_at"])
    assert abs(created - datetime.now(UTC)) < timedelta(minutes=1)
    assert expires - created == timedelta(days=7)
    no_body = await client.post("/api/admin/invites", headers=admin.headers)
    assert no_body.status_code == 201
    assert no_body.json()["uses_left"] == 1
    codes = {invite["code"], no_body.json()["code"]}
    codes |= {(await make_invite(client, admin))["code"] for _ in range(20)}
    assert len(codes) == 22


async def test_expiry_and_uses_are_chosen(client: httpx.AsyncClient, app: FastAPI) -> None:
    admin = await site_admin(app)
    invite = await make_invite(client, admin, expires_days=30, uses=25)
    assert invite["uses_left"] == 25
    assert parse_time(invite["expires_at"]) - parse_time(invite["created_at"]) == timedelta(days=30)


@pytest.mark.parametrize(
    "body",
    [
        {"uses": 0},
        {"uses": -1},
        {"uses": 1.5},
        {"uses": 2.0},
        {"uses": "3"},
        {"uses": True},
        {"uses": None},
        {"uses": 10**30},
        {"expires_days": 0},
        {"expires_days": -7},
        {"expires_days": 3651},
        {"expires_days": 10**30},
        {"expires_days": "7"},
        {"expires_days": False},
        {"expires_days": []},
        [],
        "x",
        7,
    ],
)
async def test_uses_and_expiry_must_be_positive_integers(
    client: httpx.AsyncClient, app: FastAPI, body: Any
) -> None:
    admin = await site_admin(app)
    response = await client.post("/api/admin/invites", json=body, headers=admin.headers)
    assert response.status_code == 422, response.text
    assert (await client.get("/api/admin/invites", headers=admin.headers)).json() == []


async def test_live_invites_are_listed_with_their_codes(client: httpx.AsyncClient, app: FastAPI) -> None:
    admin = await site_admin(app)
    first = await make_invite(client, admin)
    used_up = await make_invite(client, admin)
    expired = await make_invite(client, admin)
    revoked = await make_invite(client, admin)
    newest = await make_invite(client, admin, uses=2)
    async with context_of(app).db.writing() as session:
        row = await session.get(Invite, used_up["id"])
        assert row is not None
        row.uses_left = 0
        row = await session.get(Invite, expired["id"])
        assert row is not None
        row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    assert (
        await client.delete(f"/api/admin/invites/{revoked['id']}", headers=admin.headers)
    ).status_code == 204
    listed = (await client.get("/api/admin/invites", headers=admin.headers)).json()
    assert listed == [newest, first]


async def test_revoking_twice_or_an_unknown_invite_is_404(client: httpx.AsyncClient, app: FastAPI) -> None:
    admin = await site_admin(app)
    invite = await make_invite(client, admin)
    assert (
        await client.delete(f"/api/admin/invites/{invite['id']}", headers=admin.headers)
    ).status_code == 204
    again = await client.delete(f"/api/admin/invites/{invite['id']}", headers=admin.headers)
    assert again.status_code == 404
    for invite_id in [*MALFORMED_IDS, UNKNOWN_ID]:
        response = await client.delete(f"/api/admin/invites/{invite_id}", headers=admin.headers)
        assert response.status_code == 404, invite_id


async def test_only_site_admins_manage_invites(client: httpx.AsyncClient, app: FastAPI) -> None:
    admin = await site_admin(app)
    invite = await make_invite(client, admin)
    (plain,) = await store_accounts(app, [{"username": "plain"}])
    for method, path in [
        ("POST", "/api/admin/invites"),
        ("GET", "/api/admin/invites"),
        ("DELETE", f"/api/admin/invites/{invite['id']}"),
    ]:
        assert (await client.request(method, path, headers=plain.headers)).status_code == 403, path
        anonymous = await client.request(method, path)
        assert anonymous.status_code == 401, path
        assert anonymous.headers["WWW-Authenticate"] == "Bearer"
    assert [i["id"] for i in (await client.get("/api/admin/invites", headers=admin.headers)).json()] == [
        invite["id"]
    ]


async def test_racing_signups_take_each_use_once(database_url: str, tmp_path: Path) -> None:
    """Eight signups at once for an invite of three uses: exactly three accounts."""
    async with running_app(database_url, tmp_path, signup="invite") as app, client_from(app) as http:
        admin = await site_admin(app)
        invite = await make_invite(http, admin, uses=3)
        responses = await asyncio.gather(
            *(signup_status(http, f"racer{index}", invite=invite["code"]) for index in range(8))
        )
        assert sorted(r.status_code for r in responses) == [201] * 3 + [403] * 5
        async with context_of(app).db.session() as session:
            row = await session.get(Invite, invite["id"])
        assert row is not None and row.uses_left == 0


async def test_racing_for_a_name_spends_one_use(database_url: str, tmp_path: Path) -> None:
    """Two signups for one username with one invite: one account, and the loser's use is kept."""
    async with running_app(database_url, tmp_path, signup="invite") as app, client_from(app) as http:
        admin = await site_admin(app)
        invite = await make_invite(http, admin, uses=2)
        responses = await asyncio.gather(
            *(signup_status(http, "samename", invite=invite["code"]) for _ in range(2))
        )
        assert sorted(r.status_code for r in responses) == [201, 409]
        listed = (await http.get("/api/admin/invites", headers=admin.headers)).json()
        assert listed[0]["uses_left"] == 1


@pytest.fixture
def postgresql(test_database: MigratedDatabase) -> MigratedDatabase:
    if test_database.kind != "postgresql":
        pytest.skip("needs PostgreSQL (--db postgresql)")
    return test_database


@pytest.mark.parametrize("holder_commits", [True, False])
async def test_a_signup_waits_for_one_holding_the_last_use(
    postgresql: MigratedDatabase, database_url: str, tmp_path: Path, holder_commits: bool
) -> None:
    """Another transaction has taken the last use but not committed: the signup waits on it,
    then is refused if it committed, and gets the use if it rolled back."""
    async with running_app(database_url, tmp_path, signup="invite") as app, client_from(app) as http:
        admin = await site_admin(app)
        invite = await make_invite(http, admin)
        holder = await asyncpg.connect(_asyncpg_dsn(database_url))
        try:
            transaction = holder.transaction()
            await transaction.start()
            taken = await holder.execute(
                "UPDATE invites SET uses_left = uses_left - 1 WHERE id = $1 AND uses_left > 0", invite["id"]
            )
            assert taken == "UPDATE 1"
            signing_up = asyncio.ensure_future(signup_status(http, "waiter", invite=invite["code"]))
            await _wait_until_blocked(holder)
            assert not signing_up.done()
            await (transaction.commit() if holder_commits else transaction.rollback())
            response = await asyncio.wait_for(signing_up, timeout=10)
        finally:
            await holder.close()
        assert response.status_code == (403 if holder_commits else 201), response.text


async def _wait_until_blocked(observer: asyncpg.Connection, timeout: float = 10) -> None:
    """Until some other backend waits for a lock (the signup, on the invite's row)."""
    query = (
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND datname = current_database() AND pid <> pg_backend_pid()"
    )
    async with asyncio.timeout(timeout):
        while True:
            if await observer.fetchval(query):
                return
            await asyncio.sleep(0.02)
