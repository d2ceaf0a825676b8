"""Who may read, send, edit and delete messages: SPEC.md's table, role by role."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import create_room, send
from tests.rooms.helpers import MALFORMED_IDS, UNKNOWN_ID, Cast, NewAccount, Route, fill, statuses


async def message_by_member(cast: Cast, room: dict[str, Any]) -> dict[str, Any]:
    message = await send(cast.client, cast.member, room["id"], "by the member")
    return {"seq": message["seq"]}


def members(code: int, **others: int) -> dict[str, int]:
    """Members get `code`, outsiders and site admins 403, unless `others` says otherwise."""
    codes = {"owner": code, "admin": code, "member": code, "target": code, "outsider": 403, "site_admin": 403}
    return codes | others


# `member` wrote the message that PATCH and DELETE act on; `target` is another member.
ROUTES = {
    "read history": Route("GET", "/api/rooms/{room}/messages", members(200, site_admin=200)),
    "send": Route("POST", "/api/rooms/{room}/messages", members(201), body={"body": "hello"}),
    "edit": Route(
        "PATCH",
        "/api/rooms/{room}/messages/{seq}",
        members(403, member=200),
        body={"body": "edited"},
        setup=message_by_member,
    ),
    "delete": Route(
        "DELETE",
        "/api/rooms/{room}/messages/{seq}",
        members(204, target=403, site_admin=204),
        fresh=True,
        setup=message_by_member,
    ),
}


@pytest.mark.parametrize("name", list(ROUTES))
async def test_each_role_gets_what_the_spec_says(cast: Cast, name: str) -> None:
    route = ROUTES[name]
    for private in (False, True):
        assert await statuses(cast, route, private=private) == route.expected(private), private


async def test_malformed_or_unknown_ids_are_404(client: httpx.AsyncClient, new_account: NewAccount) -> None:
    ada = await new_account()
    room = await create_room(client, ada)
    await send(client, ada, room["id"], "one")
    for bad in [*MALFORMED_IDS, UNKNOWN_ID]:
        for name, route in ROUTES.items():
            for fields in ({"room": bad, "seq": 1}, {"room": room["id"], "seq": bad}):
                if "{seq}" not in route.path and fields["room"] == room["id"]:
                    continue
                path = fill(route.path, fields)
                response = await client.request(route.method, path, json=route.body, headers=ada.headers)
                assert response.status_code == 404, (name, path, response.text)
    # A seq the room has not reached, and one past what any id can hold.
    for seq in ("2", str(2**63 - 1), str(2**63), "9" * 30):
        response = await client.delete(f"/api/rooms/{room['id']}/messages/{seq}", headers=ada.headers)
        assert response.status_code == 404, seq
