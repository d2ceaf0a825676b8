"""Who may call each route under /api/rooms/{room_id}: SPEC.md's tables, role by role."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.factories import Account, create_room, signup
from tests.rooms.helpers import MALFORMED_IDS, ROLES, UNKNOWN_ID, Cast, ban

OK = {"owner": 200, "admin": 200, "member": 200, "target": 200, "outsider": 200, "site_admin": 200}


def managers(code: int) -> dict[str, int]:
    """Owners and room admins only: members and outsiders 403, site admins too."""
    return {"owner": code, "admin": code, "member": 403, "target": 403, "outsider": 403, "site_admin": 403}


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    # For a public room; deactivated accounts and anonymous callers get 401 everywhere.
    public: dict[str, int]
    # What differs in a private room: outsiders always get 404 (the visibility rule).
    private: dict[str, int] = field(default_factory=dict)
    body: Any = None
    # The route changes state, so each caller gets a fresh room.
    fresh: bool = False
    setup: Callable[[Cast, int], Awaitable[None]] | None = None

    def expected(self, private: bool) -> dict[str, int]:
        codes = {**self.public, "deactivated": 401, "anonymous": 401}
        if private:
            codes |= {"outsider": 404, **self.private}
        return codes


async def ban_target(cast: Cast, room_id: int) -> None:
    await ban(cast.client, cast.owner, room_id, cast.target)


ROUTES = {
    "read room": Route("GET", "/api/rooms/{room}", OK),
    "change room": Route(
        "PATCH",
        "/api/rooms/{room}",
        {**managers(200), "site_admin": 200},
        body={"description": "changed"},
    ),
    "delete room": Route(
        "DELETE", "/api/rooms/{room}", {**managers(204), "admin": 403, "site_admin": 204}, fresh=True
    ),
    "join": Route("POST", "/api/rooms/{room}/join", OK, private={"site_admin": 404}, fresh=True),
    "leave": Route(
        "POST",
        "/api/rooms/{room}/leave",
        {"owner": 409, "admin": 204, "member": 204, "target": 204, "outsider": 403, "site_admin": 403},
        fresh=True,
    ),
    "list members": Route("GET", "/api/rooms/{room}/members", {**OK, "outsider": 403}),
    "invite": Route(
        "POST", "/api/rooms/{room}/members", managers(201), body={"username": "{outsider}"}, fresh=True
    ),
    "change role": Route(
        "PATCH", "/api/rooms/{room}/members/{target}", managers(200), body={"role": "admin"}, fresh=True
    ),
    "kick": Route(
        "DELETE", "/api/rooms/{room}/members/{target}", {**managers(204), "target": 204}, fresh=True
    ),
    "list bans": Route("GET", "/api/rooms/{room}/bans", managers(200)),
    "ban": Route("POST", "/api/rooms/{room}/bans", managers(201), body={"user_id": "{target}"}, fresh=True),
    "lift ban": Route(
        "DELETE",
        "/api/rooms/{room}/bans/{target}",
        managers(204),
        private={"target": 404},  # banned, so no longer a member
        fresh=True,
        setup=ban_target,
    ),
}


def fill(value: Any, room_id: object, target: Account, outsider: Account) -> Any:
    """Put real ids and names into a route's path or body."""
    if isinstance(value, dict):
        return {key: fill(item, room_id, target, outsider) for key, item in value.items()}
    if value == "{target}":
        return target.id
    if value == "{outsider}":
        return outsider.username
    if isinstance(value, str):
        return value.format(room=room_id, target=target.id)
    return value


@pytest.mark.parametrize("private", [False, True], ids=["public", "private"])
@pytest.mark.parametrize("name", list(ROUTES))
async def test_each_role_gets_what_the_spec_says(cast: Cast, name: str, private: bool) -> None:
    route = ROUTES[name]
    expected = route.expected(private)
    shared = await cast.room(private=private)
    if route.setup is not None:
        await route.setup(cast, shared["id"])
    actual: dict[str, int] = {}
    for role in ROLES:
        room = shared
        if route.fresh and expected[role] < 400:
            # Refusals change nothing, so they share a room; each success gets its own.
            room = await cast.room(private=private)
            if route.setup is not None:
                await route.setup(cast, room["id"])
        path, body = (fill(part, room["id"], cast.target, cast.outsider) for part in (route.path, route.body))
        response = await cast.call(role, route.method, path, json=body)
        actual[role] = response.status_code
        if response.status_code == 401:
            assert response.headers["WWW-Authenticate"] == "Bearer"
    assert actual == expected


@pytest.mark.parametrize("room_id", [*MALFORMED_IDS, UNKNOWN_ID])
async def test_a_malformed_or_unknown_room_id_is_404_on_every_route(
    client: httpx.AsyncClient, room_id: str
) -> None:
    owner, other = await signup(client), await signup(client)
    await create_room(client, owner)
    for name, route in ROUTES.items():
        path, body = (fill(part, room_id, other, other) for part in (route.path, route.body))
        response = await client.request(route.method, path, json=body, headers=owner.headers)
        assert response.status_code == 404, (name, response.text)
        assert response.json() == {"detail": "Room not found"}
