"""POST /api/auth/refresh and /api/auth/logout: rotation, reuse detection, revocation."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from jose import jwt

from tests.factories import signup


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/api/auth/refresh", json={"refresh_token": token})


async def test_refresh_rotates_the_pair(client: httpx.AsyncClient) -> None:
    account = await signup(client, "ada")
    response = await refresh(client, account.refresh_token)
    assert response.status_code == 200
    pair = response.json()
    assert pair["refresh_token"] != account.refresh_token
    me = await client.get("/api/users/me", headers={"Authorization": f"Bearer {pair['access_token']}"})
    assert me.status_code == 200


async def test_a_spent_refresh_token_is_refused_and_revokes_the_login(client: httpx.AsyncClient) -> None:
    account = await signup(client, "ada")
    first = (await refresh(client, account.refresh_token)).json()
    second = (await refresh(client, first["refresh_token"])).json()
    # An attacker replays the first, spent token: refused, and the whole login is revoked.
    replay = await refresh(client, account.refresh_token)
    assert replay.status_code == 401
    assert "reuse" in replay.json()["detail"]
    assert (await refresh(client, second["refresh_token"])).status_code == 401


async def test_reuse_does_not_touch_other_logins(client: httpx.AsyncClient) -> None:
    account = await signup(client, "ada")
    other = await client.post(
        "/api/auth/login", data={"username": "ada", "password": "correct horse battery"}
    )
    await refresh(client, account.refresh_token)
    await refresh(client, account.refresh_token)  # reuse: revokes the first login only
    assert (await refresh(client, other.json()["refresh_token"])).status_code == 200


async def test_two_racing_refreshes_of_one_token_cannot_both_win(client: httpx.AsyncClient) -> None:
    account = await signup(client, "ada")
    responses = await asyncio.gather(*(refresh(client, account.refresh_token) for _ in range(5)))
    assert sorted(r.status_code for r in responses).count(200) <= 1


@pytest.mark.parametrize(
    "body",
    [{}, {"refresh_token": 5}, {"refresh_token": None}, {"refresh_token": "x" * 5000}, {"token": "abc"}],
)
async def test_malformed_refresh_bodies_get_422(client: httpx.AsyncClient, body: object) -> None:
    response = await client.post("/api/auth/refresh", json=body)
    assert response.status_code == 422


async def test_forged_refresh_tokens_get_401(client: httpx.AsyncClient) -> None:
    account = await signup(client, "ada")
    claims = jwt.get_unverified_claims(account.refresh_token)
    forged = jwt.encode(claims, "another-secret-" + "z" * 40, algorithm="HS256")
    access_as_refresh = account.token
    for token in (forged, access_as_refresh, "garbage", ""):
        assert (await refresh(client, token)).status_code == 401


async def test_a_refresh_token_unknown_to_the_database_gets_401(client: httpx.AsyncClient) -> None:
    account = await signup(client, "ada")
    claims = jwt.get_unverified_claims(account.refresh_token) | {"jti": "not-issued-by-us"}
    token = jwt.encode(claims, "test-secret-" + "x" * 40, algorithm="HS256")
    assert (await refresh(client, token)).status_code == 401


async def test_logout_revokes_the_refresh_token(client: httpx.AsyncClient) -> None:
    account = await signup(client, "ada")
    response = await client.post("/api/auth/logout", json={"refresh_token": account.refresh_token})
    assert response.status_code == 204
    assert (await refresh(client, account.refresh_token)).status_code == 401


async def test_logout_ignores_unusable_tokens(client: httpx.AsyncClient) -> None:
    for token in ("garbage", "", "a.b.c"):
        response = await client.post("/api/auth/logout", json={"refresh_token": token})
        assert response.status_code == 204
    assert (await client.post("/api/auth/logout", json={})).status_code == 422
