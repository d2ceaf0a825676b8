"""Shared by the rooms, messages and admin tests: a cast with every role, hostile inputs, checks."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import update

from api.auth.models import User
from api.context import AppContext
from api.rooms.models import Membership, Role
from tests.factories import Account, create_room, signup

# A malformed id is an unknown one: 404. `%00` reaches the route as a NUL character.
MALFORMED_IDS = ["abc", "-1", "0", "1.5", "99999999999999999999", "%00", "1e3", "%20", "１"]
UNKNOWN_ID = "424242"

# Strings that must be stored and returned exactly as sent.
HOSTILE_TEXTS = [
    "'; DROP TABLE rooms; --",
    "' OR '1'='1",
    "Robert'); DELETE FROM messages WHERE ('1'='1",
    "<script>alert(document.cookie)</script>",
    '<img src=x onerror="alert(1)">',
    "\"quoted\" & 'apos' \\ back\\slash",
    "100% _wild_ %% __",
    "${jndi:ldap://x/a} {{7*7}} %s %n",
    "emoji 😀👩‍👩‍👧 ﷽ 𝕳 ü ñ 中文 עברית",
    "\\u0000 \\x00 literal escapes",
]

# Every role the permission tables of SPEC.md name. `target` is a second plain member
# that routes act on; `deactivated` is a member whose account was deactivated.
ROLES = ["owner", "admin", "member", "target", "outsider", "site_admin", "deactivated", "anonymous"]

_rooms = itertools.count(1)


async def refuse_server_errors(response: httpx.Response) -> None:
    """An httpx response hook: no input may ever give a 5xx."""
    assert response.status_code < 500, (
        f"{response.request.method} {response.request.url} gave {response.status_code}: "
        f"{(await response.aread()).decode(errors='replace')}"
    )


def context_of(app: FastAPI) -> AppContext:
    context: AppContext = app.state.context
    return context


async def make_site_admin(app: FastAPI, account: Account) -> None:
    async with context_of(app).db.writing() as session:
        await session.execute(update(User).where(User.id == account.id).values(is_admin=True))


async def deactivate(app: FastAPI, account: Account) -> None:
    async with context_of(app).db.writing() as session:
        await session.execute(update(User).where(User.id == account.id).values(is_active=False))


@dataclass
class Cast:
    """One user per role, and rooms in which each holds that role."""

    client: httpx.AsyncClient
    app: FastAPI
    owner: Account
    admin: Account
    member: Account
    target: Account
    outsider: Account
    site_admin: Account
    deactivated: Account

    @classmethod
    async def create(cls, client: httpx.AsyncClient, app: FastAPI) -> Cast:
        roles = ROLES[:-1]
        accounts = await asyncio.gather(*(signup(client) for _ in roles))
        cast = cls(client, app, **dict(zip(roles, accounts, strict=True)))
        await make_site_admin(app, cast.site_admin)
        await deactivate(app, cast.deactivated)
        return cast

    def headers(self, role: str) -> dict[str, str]:
        if role == "anonymous":
            return {}
        account: Account = getattr(self, role)
        return account.headers

    async def room(self, *, private: bool = False, name: str | None = None) -> dict[str, Any]:
        """A room of `owner` with `admin` as room admin and the others members, except `outsider`
        and `site_admin`."""
        room = await create_room(
            self.client, self.owner, name or f"cast room {next(_rooms)}", private=private
        )
        # Straight into the database in one transaction: four invites over HTTP cost four commits.
        async with context_of(self.app).db.writing() as session:
            session.add_all(
                Membership(room_id=room["id"], user_id=account.id, role=role)
                for account, role in [
                    (self.admin, Role.admin),
                    (self.member, Role.member),
                    (self.target, Role.member),
                    (self.deactivated, Role.member),
                ]
            )
        room["member_count"] = 5
        return room

    async def call(
        self, role: str, method: str, path: str, json: Any = None, **kwargs: Any
    ) -> httpx.Response:
        return await self.client.request(method, path, json=json, headers=self.headers(role), **kwargs)


async def ban(client: httpx.AsyncClient, by: Account, room_id: int, who: Account) -> None:
    response = await client.post(f"/api/rooms/{room_id}/bans", json={"user_id": who.id}, headers=by.headers)
    assert response.status_code == 201, response.text


async def role_of(client: httpx.AsyncClient, viewer: Account, room_id: int, who: Account) -> str | None:
    response = await client.get(f"/api/rooms/{room_id}/members", headers=viewer.headers)
    assert response.status_code == 200, response.text
    roles = {m["user"]["id"]: m["role"] for m in response.json()}
    return roles.get(who.id)
