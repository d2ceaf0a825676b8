"""Access tokens: every forged or unusable kind is refused with 401."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from jose import jwt
from sqlalchemy import delete, update

from api.auth.models import RefreshToken, User
from api.auth.tokens import TokenType, issue_token
from api.context import AppContext
from tests.factories import signup

KEY = "test-secret-" + "x" * 40


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims_for(user_id: int, **overrides: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": str(user_id),
        "exp": now + 600,
        "iat": now,
        "jti": "j",
        "type": "access",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def forged_tokens(user_id: int) -> dict[str, str]:
    good = claims_for(user_id)
    return {
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(good)}.",
        "alg none, signed part kept": f"{_b64({'alg': 'none'})}.{_b64(good)}.c2ln",
        "another key": jwt.encode(good, "another-secret-" + "y" * 40, algorithm="HS256"),
        "HS512": jwt.encode(good, KEY, algorithm="HS512"),
        "expired": jwt.encode(claims_for(user_id, exp=int(time.time()) - 5), KEY, algorithm="HS256"),
        "refresh type": jwt.encode(claims_for(user_id, type="refresh"), KEY, algorithm="HS256"),
        "no type": jwt.encode(claims_for(user_id, type=None), KEY, algorithm="HS256"),
        "no jti": jwt.encode(claims_for(user_id, jti=None), KEY, algorithm="HS256"),
        "no exp": jwt.encode(claims_for(user_id, exp=None), KEY, algorithm="HS256"),
        "no sub": jwt.encode(claims_for(user_id, sub=None), KEY, algorithm="HS256"),
        "sub not a number": jwt.encode(claims_for(user_id, sub="ada"), KEY, algorithm="HS256"),
        "sub an int": jwt.encode(claims_for(user_id, sub=user_id), KEY, algorithm="HS256"),
        "unknown user": jwt.encode(claims_for(999_999), KEY, algorithm="HS256"),
        "huge user id": jwt.encode(claims_for(10**30), KEY, algorithm="HS256"),
        "exp a string": jwt.encode(claims_for(user_id, exp="tomorrow"), KEY, algorithm="HS256"),
        "garbage": "not.a.token",
        "empty segments": "..",
        "tampered payload": (
            lambda t: t.split(".")[0] + "." + _b64(claims_for(user_id, sub="1")) + "." + t.split(".")[2]
        )(jwt.encode(good, KEY, algorithm="HS256")),
    }


@pytest.mark.parametrize("kind", list(forged_tokens(1)))
async def test_forged_and_unusable_tokens_get_401(client: httpx.AsyncClient, kind: str) -> None:
    account = await signup(client, "ada")
    token = forged_tokens(account.id)[kind]
    response = await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, kind
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer ", "Basic YWRhOnB3", "bearer", "Token abc"])
async def test_malformed_authorization_headers_get_401(client: httpx.AsyncClient, header: str) -> None:
    response = await client.get("/api/users/me", headers={"Authorization": header})
    assert response.status_code == 401


async def test_the_refresh_token_is_not_an_access_token(client: httpx.AsyncClient) -> None:
    account = await signup(client, "ada")
    response = await client.get("/api/users/me", headers={"Authorization": f"Bearer {account.refresh_token}"})
    assert response.status_code == 401


async def test_a_deactivated_users_token_stops_working(client: httpx.AsyncClient, app: FastAPI) -> None:
    account = await signup(client, "ada")
    context: AppContext = app.state.context
    async with context.db.writing() as session:
        await session.execute(update(User).values(is_active=False))
    response = await client.get("/api/users/me", headers=account.headers)
    assert response.status_code == 401


async def test_a_deleted_users_token_stops_working(client: httpx.AsyncClient, app: FastAPI) -> None:
    account = await signup(client, "ada")
    context: AppContext = app.state.context
    async with context.db.writing() as session:
        await session.execute(delete(RefreshToken))
        await session.execute(delete(User))
    response = await client.get("/api/users/me", headers=account.headers)
    assert response.status_code == 401


async def test_an_expired_token_of_our_own_gets_401(client: httpx.AsyncClient) -> None:
    account = await signup(client, "ada")
    token, _ = issue_token(key=KEY, user_id=account.id, type=TokenType.access, lifetime=timedelta(seconds=-1))
    response = await client.get("/api/users/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["detail"] == "Token expired"
