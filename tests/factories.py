"""Making users, rooms and messages through the public API."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import httpx

PASSWORD = "correct horse battery"
_names = itertools.count(1)


@dataclass
class Account:
    id: int
    username: str
    token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "username": self.username, "display_name": self.username}


async def signup(client: httpx.AsyncClient, username: str | None = None, password: str = PASSWORD) -> Account:
    username = username or f"user{next(_names)}"
    response = await client.post("/api/auth/signup", json={"username": username, "password": password})
    assert response.status_code == 201, response.text
    user_id = response.json()["id"]
    return await login(client, username, password, user_id=user_id)


async def login(
    client: httpx.AsyncClient, username: str, password: str = PASSWORD, *, user_id: int = 0
) -> Account:
    response = await client.post("/api/auth/login", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    tokens = response.json()
    if not user_id:
        me = await client.get("/api/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
        user_id = me.json()["id"]
    return Account(user_id, username, tokens["access_token"], tokens["refresh_token"])


async def create_room(
    client: httpx.AsyncClient, owner: Account, name: str | None = None, *, private: bool = False
) -> dict[str, Any]:
    body = {"name": name or f"room{next(_names)}", "is_private": private}
    response = await client.post("/api/rooms", json=body, headers=owner.headers)
    assert response.status_code == 201, response.text
    room: dict[str, Any] = response.json()
    return room


async def join(client: httpx.AsyncClient, account: Account, room_id: int) -> None:
    response = await client.post(f"/api/rooms/{room_id}/join", headers=account.headers)
    assert response.status_code == 200, response.text


async def invite(
    client: httpx.AsyncClient, by: Account, room_id: int, who: Account, role: str = "member"
) -> None:
    response = await client.post(
        f"/api/rooms/{room_id}/members", json={"username": who.username, "role": role}, headers=by.headers
    )
    assert response.status_code == 201, response.text


async def send(
    client: httpx.AsyncClient, account: Account, room_id: int, body: str, nonce: str | None = None
) -> dict[str, Any]:
    payload: dict[str, Any] = {"body": body}
    if nonce is not None:
        payload["nonce"] = nonce
    response = await client.post(f"/api/rooms/{room_id}/messages", json=payload, headers=account.headers)
    assert response.status_code in (200, 201), response.text
    message: dict[str, Any] = response.json()
    return message
