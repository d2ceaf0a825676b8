"""POST /api/auth/signup and GET /api/users/me."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import PASSWORD, signup


async def test_signup_returns_the_user_without_secrets(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/signup", json={"username": "Ada.L-1_x", "password": PASSWORD, "display_name": "  Ada  "}
    )
    assert response.status_code == 201
    user = response.json()
    assert set(user) == {"id", "username", "display_name", "is_admin", "is_bot", "created_at"}
    assert user["username"] == "Ada.L-1_x"
    assert user["display_name"] == "Ada"
    assert user["is_admin"] is False
    assert user["created_at"].endswith("Z")


async def test_display_name_defaults_to_the_username(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/auth/signup", json={"username": "grace", "password": PASSWORD})
    assert response.json()["display_name"] == "grace"


async def test_usernames_are_unique_ignoring_case(client: httpx.AsyncClient) -> None:
    await signup(client, "Linus")
    response = await client.post("/api/auth/signup", json={"username": "lINUS", "password": PASSWORD})
    assert response.status_code == 409
    assert "taken" in response.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"username": "ada"},
        {"password": PASSWORD},
        {"username": "ab", "password": PASSWORD},
        {"username": "a" * 33, "password": PASSWORD},
        {"username": "ada lovelace", "password": PASSWORD},
        {"username": "adä", "password": PASSWORD},
        {"username": "ada'; DROP TABLE users;--", "password": PASSWORD},
        {"username": "<script>", "password": PASSWORD},
        {"username": "ada\n", "password": PASSWORD},
        {"username": "ada", "password": "short"},
        {"username": "ada", "password": "x" * 129},
        {"username": 12345, "password": PASSWORD},
        {"username": "ada", "password": 12345678},
        {"username": ["ada"], "password": PASSWORD},
        {"username": "ada", "password": PASSWORD, "display_name": "x" * 65},
        {"username": "ada", "password": PASSWORD, "display_name": "   "},
        {"username": "ada", "password": PASSWORD, "display_name": "bell\x07"},
        {"username": None, "password": None},
    ],
)
async def test_invalid_signups_get_422(client: httpx.AsyncClient, body: object) -> None:
    response = await client.post("/api/auth/signup", json=body)
    assert response.status_code == 422
    assert response.json()["detail"]


@pytest.mark.parametrize("raw", [b"", b"not json", b"[]", b'"string"', b"{", b"\xff\xfe"])
async def test_malformed_bodies_get_422(client: httpx.AsyncClient, raw: bytes) -> None:
    response = await client.post(
        "/api/auth/signup", content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422


async def test_a_huge_body_is_refused_before_it_is_read(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/signup", content=b"x" * (2 * 1024 * 1024), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413


async def test_passwords_of_any_characters_work(client: httpx.AsyncClient) -> None:
    password = "pä ss\x00wörd 🔑 <'\">"
    await signup(client, "unicode", password=password)


async def test_me_returns_the_caller(client: httpx.AsyncClient) -> None:
    account = await signup(client, "hopper")
    response = await client.get("/api/users/me", headers=account.headers)
    assert response.status_code == 200
    assert response.json()["username"] == "hopper"


async def test_me_needs_a_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/users/me")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
