"""Shared by the rooms, messages and admin tests: a cast with every role, hostile inputs, checks."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI

from api.auth.models import User
from api.auth.tokens import TokenType, issue_token
from api.context import AppContext
from api.rooms.models import Membership, Role
from tests.factories import Account, create_room

# A malformed id is an unknown one: 404. `%00` reaches the route as a NUL character.
MALFORMED_IDS = ["abc", "-1", "0", "1.5", "99999999999999999999", "%00", "１"]
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
_names = itertools.count(1)


async def refuse_server_errors(response: httpx.Response) -> None:
    """An httpx response hook: no input may ever give a 5xx."""
    assert response.status_code < 500, (
        f"{response.request.method} {response.request.url} gave {response.status_code}: "
        f"{(await response.aread()).decode(errors='replace')}"
    )


def issue_access_token(app: FastAPI, user_id: int) -> str:
    settings = context_of(app).settings
    token, _ = issue_token(
        key=settings.signing_key,
        user_id=user_id,
        type=TokenType.access,
        lifetime=settings.access_token_lifetime,
    )
    return token


def context_of(app: FastAPI) -> AppContext:
    context: AppContext = app.state.context
    return context


async def store_accounts(app: FastAPI, users: list[dict[str, Any]]) -> list[Account]:
    """Users stored directly, each with an access token: a signup and a login over HTTP would
    cost most of a short test (tests/auth covers those routes). They have no password."""
    async with context_of(app).db.writing() as session:
        stored = [
            User(
                username=user["username"],
                username_key=user["username"].lower(),
                display_name=user["username"],
                password_hash="!",  # matches no password
                is_admin=user.get("is_admin", False),
                is_active=user.get("is_active", True),
            )
            for user in users
        ]
        session.add_all(stored)
        await session.flush()
    return [Account(u.id, u.username, issue_access_token(app, u.id), refresh_token="") for u in stored]


NewAccount = Callable[..., Awaitable[Account]]


def account_factory(app: FastAPI) -> NewAccount:
    """`await new_account()` or `await new_account("ada", is_admin=True)`."""

    async def new_account(username: str | None = None, *, is_admin: bool = False) -> Account:
        (account,) = await store_accounts(
            app, [{"username": username or f"user{next(_names)}", "is_admin": is_admin}]
        )
        return account

    return new_account


async def add_members(
    app: FastAPI, room_id: int, accounts: list[Account], *, role: Role = Role.member
) -> None:
    """Memberships stored directly, in one transaction: an invite over HTTP costs a commit each."""
    async with context_of(app).db.writing() as session:
        session.add_all(Membership(room_id=room_id, user_id=a.id, role=role) for a in accounts)


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
        accounts = await store_accounts(
            app,
            [
                {
                    "username": f"{role.replace('_', '')}{next(_names)}",
                    "is_admin": role == "site_admin",
                    "is_active": role != "deactivated",
                }
                for role in roles
            ],
        )
        return cls(client, app, **dict(zip(roles, accounts, strict=True)))

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
        await add_members(self.app, room["id"], [self.admin], role=Role.admin)
        await add_members(self.app, room["id"], [self.member, self.target, self.deactivated])
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


# --- permission tables ----------------------------------------------------------------------

Setup = Callable[["Cast", dict[str, Any]], Awaitable[dict[str, Any]]]


def managers(code: int) -> dict[str, int]:
    """Owners and room admins only: members, outsiders and site admins get 403."""
    return {"owner": code, "admin": code, "member": 403, "target": 403, "outsider": 403, "site_admin": 403}


@dataclass(frozen=True)
class Route:
    """One row of a permission table: what each role gets from a route, per SPEC.md."""

    method: str
    # `{room}`, `{target}` (the target's id) and whatever `setup` returns are filled in.
    path: str
    # For a public room; deactivated accounts and anonymous callers get 401 everywhere.
    public: dict[str, int]
    # What differs in a private room: outsiders always get 404 (the visibility rule).
    private: dict[str, int] = field(default_factory=dict)
    body: Any = None
    # The route changes state, so each caller it lets through gets a fresh room.
    fresh: bool = False
    setup: Setup | None = None

    def expected(self, private: bool) -> dict[str, int]:
        codes = {**self.public, "deactivated": 401, "anonymous": 401}
        if private:
            codes |= {"outsider": 404, **self.private}
        return codes


def fill(value: Any, fields: dict[str, Any]) -> Any:
    """Put real ids and names into a route's path or body; a bare `{name}` keeps its type."""
    if isinstance(value, dict):
        return {key: fill(item, fields) for key, item in value.items()}
    if isinstance(value, str) and value.startswith("{") and value.endswith("}") and value[1:-1] in fields:
        return fields[value[1:-1]]
    if isinstance(value, str):
        return value.format(**fields)
    return value


async def statuses(cast: Cast, route: Route, *, private: bool) -> dict[str, int]:
    """The status each role gets from `route` in a room of the cast."""

    async def prepare() -> dict[str, Any]:
        room = await cast.room(private=private)
        fields = {"room": room["id"], "target": cast.target.id, "outsider": cast.outsider.username}
        if route.setup is not None:
            fields |= await route.setup(cast, room)
        return fields

    expected = route.expected(private)
    shared = await prepare()
    actual: dict[str, int] = {}
    for role in ROLES:
        # Refusals change nothing, so they share a room; each success gets its own.
        fields = await prepare() if route.fresh and expected[role] < 400 else shared
        response = await cast.call(
            role, route.method, fill(route.path, fields), json=fill(route.body, fields)
        )
        actual[role] = response.status_code
        if response.status_code == 401:
            assert response.headers["WWW-Authenticate"] == "Bearer"
    return actual
