"""Who may call each route under /api/rooms/{room_id}: SPEC.md's tables, role by role."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import create_room
from tests.rooms.helpers import (
    MALFORMED_IDS,
    UNKNOWN_ID,
    Cast,
    NewAccount,
    Route,
    ban,
    fill,
    managers,
    statuses,
)

OK = {"owner": 200, "admin": 200, "member": 200, "target": 200, "outsider": 200, "site_admin": 200}


async def ban_target(cast: Cast, room: dict[str, Any]) -> dict[str, Any]:
    await ban(cast.client, cast.owner, room["id"], cast.target)
    return {}


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


@pytest.mark.parametrize("name", list(ROUTES))
async def test_each_role_gets_what_the_spec_says(cast: Cast, name: str) -> None:
    route = ROUTES[name]
    for private in (False, True):
        assert await statuses(cast, ROUTES[name], private=private) == route.expected(private), private


async def test_a_malformed_or_unknown_room_id_is_404_on_every_route(
    client: httpx.AsyncClient, new_account: NewAccount
) -> None:
    owner, other = await new_account(), await new_account()
    await create_room(client, owner)
    for room_id in [*MALFORMED_IDS, UNKNOWN_ID]:
        fields = {"room": room_id, "target": other.id, "outsider": other.username}
        for name, route in ROUTES.items():
            path = fill(route.path, fields)
            response = await client.request(
                route.method, path, json=fill(route.body, fields), headers=owner.headers
            )
            assert response.status_code == 404, (name, path, response.text)
            assert response.json() == {"detail": "Room not found"}
