"""POST /api/auth/login: tokens, no enumeration, throttling, deactivated accounts."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from fastapi import FastAPI
from jose import jwt
from sqlalchemy import select, update

from api.auth.models import User
from api.context import AppContext
from tests.factories import PASSWORD, signup


def context_of(app: FastAPI) -> AppContext:
    context: AppContext = app.state.context
    return context


async def test_login_returns_a_token_pair(client: httpx.AsyncClient, app: FastAPI) -> None:
    await signup(client, "ada")
    response = await client.post("/api/auth/login", data={"username": "ADA", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    claims = jwt.get_unverified_claims(body["access_token"])
    assert set(claims) >= {"sub", "exp", "iat", "jti", "type"}
    assert claims["type"] == "access"
    # Both carry microseconds (a logout-all compares them to the microsecond).
    assert claims["exp"] - claims["iat"] == pytest.approx(15 * 60, abs=1e-5)
    refresh = jwt.get_unverified_claims(body["refresh_token"])
    assert refresh["type"] == "refresh"
    assert refresh["exp"] - refresh["iat"] == pytest.approx(14 * 24 * 3600, abs=1e-5)
    assert jwt.get_unverified_header(body["access_token"])["alg"] == "HS256"


async def test_unknown_user_and_wrong_password_get_the_same_answer(client: httpx.AsyncClient) -> None:
    await signup(client, "ada")
    wrong = await client.post("/api/auth/login", data={"username": "ada", "password": "wrong password"})
    unknown = await client.post("/api/auth/login", data={"username": "nobody", "password": "wrong password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.headers["WWW-Authenticate"] == unknown.headers["WWW-Authenticate"] == "Bearer"


async def test_unknown_users_cost_a_hash_too(client: httpx.AsyncClient, app: FastAPI) -> None:
    """Timing must not tell whether a username exists: both paths verify one argon2 hash."""
    await signup(client, "ada")
    calls: list[str | None] = []
    hasher = context_of(app).hasher
    original = hasher.verify

    async def spy(password: str, stored: str | None) -> tuple[bool, str | None]:
        calls.append(stored)
        return await original(password, stored)

    hasher.verify = spy  # type: ignore[method-assign]
    await client.post("/api/auth/login", data={"username": "nobody", "password": "whatever1"})
    await client.post("/api/auth/login", data={"username": "ada", "password": "whatever1"})
    assert len(calls) == 2
    assert calls[0] is None and calls[1] is not None


async def test_a_burst_of_logins_takes_turns(client: httpx.AsyncClient, app: FastAPI) -> None:
    """No more logins run at once than there are hashing threads: the rest wait before their
    first database read, not in the middle of everything the event loop does."""
    accounts = [await signup(client) for _ in range(6)]
    hasher = context_of(app).hasher
    original = hasher.verify
    running = 0
    most = 0
    two_in = asyncio.Event()  # the hashes wait for each other, so the turns must overlap

    async def counting(password: str, stored: str | None) -> tuple[bool, str | None]:
        nonlocal running, most
        running += 1
        most = max(most, running)
        if running == 2:
            two_in.set()
        try:
            await asyncio.wait_for(two_in.wait(), 10)
            return await original(password, stored)
        finally:
            running -= 1

    hasher.verify = counting  # type: ignore[method-assign]
    answers = await asyncio.gather(
        *(
            client.post("/api/auth/login", data={"username": a.username, "password": PASSWORD})
            for a in accounts
        )
    )
    assert [answer.status_code for answer in answers] == [200] * 6
    assert most == context_of(app).settings.hashing_threads == 2


async def test_login_form_fields_are_required(client: httpx.AsyncClient) -> None:
    for data in ({}, {"username": "ada"}, {"password": "x"}):
        response = await client.post("/api/auth/login", data=data)
        assert response.status_code == 422
    # The OAuth2 password form: a grant_type, when sent, must be "password"; other fields
    # a client such as /docs sends (scope, client_id) are ignored.
    form = {"username": "ada", "password": "x", "grant_type": "client_credentials"}
    assert (await client.post("/api/auth/login", data=form)).status_code == 422
    form = {"username": "ada", "password": "x", "grant_type": "password", "scope": "", "client_id": "docs"}
    assert (await client.post("/api/auth/login", data=form)).status_code == 401


async def test_login_with_json_instead_of_a_form_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/auth/login", json={"username": "ada", "password": PASSWORD})
    assert response.status_code == 422


async def test_hostile_login_input_gets_401(client: httpx.AsyncClient) -> None:
    for username, password in [
        ("' OR '1'='1", "' OR '1'='1"),
        ("x" * 5000, "y" * 5000),
        ("<img src=x onerror=alert(1)>", PASSWORD),
        ("ada\x00", PASSWORD),
    ]:
        response = await client.post("/api/auth/login", data={"username": username, "password": password})
        assert response.status_code == 401, (username, response.text)


async def test_a_deactivated_account_gets_403_with_the_right_password(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await signup(client, "ada")
    async with context_of(app).db.writing() as session:
        await session.execute(update(User).values(is_active=False))
    right = await client.post("/api/auth/login", data={"username": "ada", "password": PASSWORD})
    wrong = await client.post("/api/auth/login", data={"username": "ada", "password": "bad password"})
    assert right.status_code == 403
    assert wrong.status_code == 401


async def test_five_failures_throttle_the_username(client: httpx.AsyncClient) -> None:
    await signup(client, "ada")
    for _ in range(5):
        response = await client.post("/api/auth/login", data={"username": "ada", "password": "bad password"})
        assert response.status_code == 401
    blocked = await client.post("/api/auth/login", data={"username": "Ada", "password": PASSWORD})
    assert blocked.status_code == 429
    retry_after = int(blocked.headers["Retry-After"])
    assert 895 <= retry_after <= 900
    other = await signup(client, "grace")
    assert other.token  # other usernames are not affected


async def test_unknown_usernames_are_throttled_too(client: httpx.AsyncClient) -> None:
    for _ in range(5):
        await client.post("/api/auth/login", data={"username": "ghost", "password": "bad password"})
    response = await client.post("/api/auth/login", data={"username": "ghost", "password": "bad password"})
    assert response.status_code == 429


async def test_the_window_passing_lifts_the_throttle(client: httpx.AsyncClient, app: FastAPI) -> None:
    await signup(client, "ada")
    for _ in range(5):
        await client.post("/api/auth/login", data={"username": "ada", "password": "bad password"})
    from api.auth.models import LoginFailure

    async with context_of(app).db.writing() as session:
        failures = (await session.scalars(select(LoginFailure))).all()
        for failure in failures:
            failure.failed_at = failure.failed_at.replace(year=failure.failed_at.year - 1)
    response = await client.post("/api/auth/login", data={"username": "ada", "password": PASSWORD})
    assert response.status_code == 200


async def test_success_clears_earlier_failures(client: httpx.AsyncClient) -> None:
    await signup(client, "ada")
    for _ in range(4):
        await client.post("/api/auth/login", data={"username": "ada", "password": "bad password"})
    assert (
        await client.post("/api/auth/login", data={"username": "ada", "password": PASSWORD})
    ).status_code == 200
    for _ in range(4):
        await client.post("/api/auth/login", data={"username": "ada", "password": "bad password"})
    assert (
        await client.post("/api/auth/login", data={"username": "ada", "password": PASSWORD})
    ).status_code == 200


async def test_outdated_hashes_are_upgraded_on_login(client: httpx.AsyncClient, app: FastAPI) -> None:
    await signup(client, "ada")
    db = context_of(app).db
    async with db.session() as session:
        before = await session.scalar(select(User.password_hash))
    assert before is not None and "m=64," in before
    # The server now wants a stronger hash than the one stored.
    from api.auth.passwords import PasswordHasher

    stronger = context_of(app).settings.model_copy(update={"password_memory_kib": 128})
    object.__setattr__(context_of(app), "hasher", PasswordHasher(stronger))
    started = time.monotonic()
    response = await client.post("/api/auth/login", data={"username": "ada", "password": PASSWORD})
    assert response.status_code == 200
    assert time.monotonic() - started < 10
    async with db.session() as session:
        after = await session.scalar(select(User.password_hash))
    assert after is not None and "m=128," in after


async def test_hashing_threads_run_at_idle_priority(app: FastAPI) -> None:
    """So a burst of logins cannot take the core from live delivery."""
    import os

    def policy() -> int:
        return os.sched_getscheduler(0)

    executor = context_of(app).hasher._executor
    assert await asyncio.get_running_loop().run_in_executor(executor, policy) == os.SCHED_IDLE
