"""/api/users/me/sessions: one session per login, what ends one, and whose they are."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from jose import jwt
from sqlalchemy import select, update

from api.auth.models import LoginSession, RefreshToken
from api.auth.service import revoke_user_tokens
from api.auth.sessions import MAX_USER_AGENT, clean_user_agent
from tests.auth.support import site_admin
from tests.factories import PASSWORD, Account, login, signup
from tests.rooms.helpers import MALFORMED_IDS, UNKNOWN_ID, context_of, issue_access_token


def parse_time(value: object) -> datetime:
    assert isinstance(value, str)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def login_as(client: httpx.AsyncClient, username: str, user_agent: str | bytes | None) -> Account:
    headers = {"User-Agent": user_agent} if user_agent is not None else {}
    response = await client.post(
        "/api/auth/login", data={"username": username, "password": PASSWORD}, headers=headers
    )
    assert response.status_code == 200, response.text
    tokens = response.json()
    claims = jwt.get_unverified_claims(tokens["access_token"])
    return Account(int(claims["sub"]), username, tokens["access_token"], tokens["refresh_token"])


async def sessions_of(client: httpx.AsyncClient, account: Account) -> list[dict[str, object]]:
    response = await client.get("/api/users/me/sessions", headers=account.headers)
    assert response.status_code == 200, response.text
    listed: list[dict[str, object]] = response.json()
    return listed


async def refresh(client: httpx.AsyncClient, account: Account) -> Account:
    response = await client.post("/api/auth/refresh", json={"refresh_token": account.refresh_token})
    assert response.status_code == 200, response.text
    tokens = response.json()
    return Account(account.id, account.username, tokens["access_token"], tokens["refresh_token"])


async def test_each_login_is_a_session_and_current_marks_the_callers(client: httpx.AsyncClient) -> None:
    await signup(client, "ada")  # logs in once, without a browser's user agent
    laptop = await login_as(client, "ada", "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0")
    phone = await login_as(client, "ada", "Mozilla/5.0 (iPhone) Safari/604.1")
    listed = await sessions_of(client, laptop)
    assert len(listed) == 3
    assert set(listed[0]) == {"id", "created_at", "last_used_at", "user_agent", "current"}
    # Most recently used first.
    assert [s["user_agent"] for s in listed[:2]] == [
        "Mozilla/5.0 (iPhone) Safari/604.1",
        "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
    ]
    assert [s["current"] for s in listed] == [False, True, False]
    assert [s["current"] for s in await sessions_of(client, phone)] == [True, False, False]
    assert all(s["created_at"] == s["last_used_at"] for s in listed)
    ids = [s["id"] for s in listed]
    assert len(set(ids)) == 3 and all(isinstance(i, int) for i in ids)
    assert jwt.get_unverified_claims(phone.token)["sid"] == ids[0]


async def test_a_refresh_keeps_its_session_and_marks_its_use(client: httpx.AsyncClient) -> None:
    await signup(client, "ada")
    laptop = await login_as(client, "ada", "laptop")
    (before,) = [s for s in await sessions_of(client, laptop) if s["current"]]
    renewed = await refresh(client, laptop)
    listed = await sessions_of(client, renewed)
    assert len(listed) == 2
    (after,) = [s for s in listed if s["current"]]
    assert after["id"] == before["id"]
    assert after["user_agent"] == "laptop"
    assert after["created_at"] == before["created_at"]
    assert parse_time(after["last_used_at"]) > parse_time(before["last_used_at"])
    assert listed[0]["id"] == after["id"]  # now the most recently used


async def test_logout_ends_its_session_only(client: httpx.AsyncClient) -> None:
    first = await signup(client, "ada")
    second = await login_as(client, "ada", "second")
    assert len(await sessions_of(client, second)) == 2
    assert (
        await client.post("/api/auth/logout", json={"refresh_token": first.refresh_token})
    ).status_code == 204
    listed = await sessions_of(client, second)
    assert [s["user_agent"] for s in listed] == ["second"]


async def test_ending_a_session_revokes_its_refresh_tokens(client: httpx.AsyncClient) -> None:
    await signup(client, "ada")
    laptop = await login_as(client, "ada", "laptop")
    lost = await login_as(client, "ada", "lost phone")
    lost = await refresh(client, lost)  # a family of several tokens
    (lost_id,) = [s["id"] for s in await sessions_of(client, laptop) if s["user_agent"] == "lost phone"]
    ended = await client.delete(f"/api/users/me/sessions/{lost_id}", headers=laptop.headers)
    assert ended.status_code == 204
    assert (
        await client.post("/api/auth/refresh", json={"refresh_token": lost.refresh_token})
    ).status_code == 401
    assert lost_id not in [s["id"] for s in await sessions_of(client, laptop)]
    again = await client.delete(f"/api/users/me/sessions/{lost_id}", headers=laptop.headers)
    assert again.status_code == 404
    # The laptop's own login goes on.
    assert (await refresh(client, laptop)).token


async def test_ending_the_current_session(client: httpx.AsyncClient) -> None:
    ada = await signup(client, "ada")
    (current,) = await sessions_of(client, ada)
    assert (
        await client.delete(f"/api/users/me/sessions/{current['id']}", headers=ada.headers)
    ).status_code == 204
    assert (
        await client.post("/api/auth/refresh", json={"refresh_token": ada.refresh_token})
    ).status_code == 401
    # Its access token works until it expires, as after a logout.
    assert await sessions_of(client, ada) == []


async def test_another_users_session_is_not_found(client: httpx.AsyncClient) -> None:
    ada, bob = await signup(client, "ada"), await signup(client, "bob")
    (bobs,) = await sessions_of(client, bob)
    response = await client.delete(f"/api/users/me/sessions/{bobs['id']}", headers=ada.headers)
    assert response.status_code == 404
    assert response.json() == {"detail": "Session not found"}
    for session_id in [*MALFORMED_IDS, UNKNOWN_ID, "1e3", " 1", "%20"]:
        response = await client.delete(f"/api/users/me/sessions/{session_id}", headers=ada.headers)
        assert response.status_code == 404, session_id
    assert len(await sessions_of(client, bob)) == 1
    assert (await refresh(client, bob)).token


async def test_sessions_need_a_token(client: httpx.AsyncClient) -> None:
    ada = await signup(client, "ada")
    (mine,) = await sessions_of(client, ada)
    for method, path in [
        ("GET", "/api/users/me/sessions"),
        ("DELETE", f"/api/users/me/sessions/{mine['id']}"),
    ]:
        for headers in (
            {},
            {"Authorization": "Bearer not.a.token"},
            {"Authorization": f"Bearer {ada.refresh_token}"},
        ):
            response = await client.request(method, path, headers=headers)
            assert response.status_code == 401, (path, headers)
            assert response.headers["WWW-Authenticate"] == "Bearer"
    assert len(await sessions_of(client, ada)) == 1


async def test_revoking_a_users_refresh_tokens_ends_every_session(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """What a password change does (it calls revoke_user_tokens), and a deactivation."""
    ada = await signup(client, "ada")
    await login_as(client, "ada", "other")
    bob = await signup(client, "bob")
    async with context_of(app).db.writing() as session:
        await revoke_user_tokens(session, ada.id)
    assert await sessions_of(client, ada) == []
    assert len(await sessions_of(client, bob)) == 1

    admin = await site_admin(app)
    off = await client.patch(f"/api/admin/users/{bob.id}", json={"is_active": False}, headers=admin.headers)
    assert off.status_code == 200
    await client.patch(f"/api/admin/users/{bob.id}", json={"is_active": True}, headers=admin.headers)
    bob_again = await login(client, "bob")
    assert [s["current"] for s in await sessions_of(client, bob_again)] == [True]


async def test_reuse_detection_ends_the_session(client: httpx.AsyncClient) -> None:
    ada = await signup(client, "ada")
    other = await login_as(client, "ada", "other")
    await refresh(client, ada)
    replayed = await client.post("/api/auth/refresh", json={"refresh_token": ada.refresh_token})
    assert replayed.status_code == 401
    assert [s["user_agent"] for s in await sessions_of(client, other)] == ["other"]


async def test_expired_sessions_are_not_listed(client: httpx.AsyncClient, app: FastAPI) -> None:
    ada = await signup(client, "ada")
    async with context_of(app).db.writing() as session:
        await session.execute(
            update(RefreshToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert await sessions_of(client, ada) == []


async def test_a_token_without_a_session_marks_none_current(client: httpx.AsyncClient, app: FastAPI) -> None:
    ada = await signup(client, "ada")
    no_session = Account(ada.id, "ada", issue_access_token(app, ada.id), "")
    assert [s["current"] for s in await sessions_of(client, no_session)] == [False]


@pytest.mark.parametrize("sid", ["1", 1.0, True, 0, -1, 2**40, [1], None])
async def test_a_forged_session_claim_is_refused(
    client: httpx.AsyncClient, app: FastAPI, sid: object
) -> None:
    ada = await signup(client, "ada")
    now = int(time.time())
    claims = {"sub": str(ada.id), "exp": now + 600, "iat": now, "jti": "j", "type": "access", "sid": sid}
    token = jwt.encode(claims, context_of(app).settings.signing_key, algorithm="HS256")
    response = await client.get("/api/users/me/sessions", headers={"Authorization": f"Bearer {token}"})
    # An absent claim (`null` is as good as absent) is a token without a session.
    assert response.status_code == (200 if sid is None else 401), sid


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("Mozilla/5.0 (X11)", "Mozilla/5.0 (X11)"),
        ("  spaced\tout  agent ", "spaced out agent"),
        ("bell\x07and\x7fdel", "bellanddel"),
        ("bidi\u202etxt.exe", "biditxt.exe"),
        ("zero\u200bwidth", "zerowidth"),
        ("Ünïcödé".encode().decode("latin-1"), "Ünïcödé"),  # raw UTF-8 bytes, as a header arrives
        ("caf\xe9 latin-1", "caf\xe9 latin-1"),
        ("", None),
        ("\x01\x02", None),
        ("x" * 1000, "x" * MAX_USER_AGENT),
        (None, None),
    ],
)
def test_user_agents_are_cleaned(raw: str | None, stored: str | None) -> None:
    assert clean_user_agent(raw) == stored


async def test_a_hostile_user_agent_is_stored_clean(client: httpx.AsyncClient, app: FastAPI) -> None:
    await signup(client, "ada")
    hostile = "<script>alert(1)</script>\u202e" + "A" * 400
    ada = await login_as(client, "ada", hostile.encode())
    listed = await sessions_of(client, ada)
    current = next(s for s in listed if s["current"])
    assert current["user_agent"] == ("<script>alert(1)</script>" + "A" * 400)[:MAX_USER_AGENT]
    async with context_of(app).db.session() as session:
        stored = await session.scalar(select(LoginSession.user_agent).where(LoginSession.id == current["id"]))
    assert stored == current["user_agent"]
