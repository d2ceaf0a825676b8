"""Membership changes racing each other: a room never ends up without an owner."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.rooms.helpers import Cast

# Each pair: what the first owner and the second owner do to each other at the same moment.
ATTACKS = {
    "demote each other": ("PATCH", "/members/{other}", {"role": "member"}),
    "kick each other": ("DELETE", "/members/{other}", None),
    "ban each other": ("POST", "/bans", {"user_id": "{other}"}),
    "both leave": ("POST", "/leave", None),
}


async def owners(cast: Cast, room: dict[str, Any]) -> list[int]:
    response = await cast.call("member", "GET", f"/api/rooms/{room['id']}/members")
    return sorted(m["user"]["id"] for m in response.json() if m["role"] == "owner")


@pytest.mark.parametrize("attack", list(ATTACKS))
async def test_two_owners_acting_on_each_other_at_once_leave_one_owner(cast: Cast, attack: str) -> None:
    method, suffix, body = ATTACKS[attack]
    for _ in range(3):  # the race is a matter of timing: give it several chances
        room = await cast.room()
        await cast.call(
            "owner", "PATCH", f"/api/rooms/{room['id']}/members/{cast.admin.id}", {"role": "owner"}
        )
        pairs = [("owner", cast.admin.id), ("admin", cast.owner.id)]
        responses = await asyncio.gather(
            *(
                cast.call(
                    role,
                    method,
                    f"/api/rooms/{room['id']}{suffix.format(other=other)}",
                    {"user_id": other} if body == {"user_id": "{other}"} else body,
                )
                for role, other in pairs
            )
        )
        codes = sorted(r.status_code for r in responses)
        assert codes[0] in (200, 201, 204), codes
        assert codes[1] in (403, 409), codes
        assert len(await owners(cast, room)) == 1


async def test_racing_joins_and_invites_of_one_user_make_one_membership(cast: Cast) -> None:
    room = await cast.room()
    joins = await asyncio.gather(
        *(cast.call("outsider", "POST", f"/api/rooms/{room['id']}/join") for _ in range(5))
    )
    assert [r.status_code for r in joins] == [200] * 5
    assert len({r.json()["joined_at"] for r in joins}) == 1
    invite = {"username": cast.site_admin.username}
    invites = await asyncio.gather(
        *(
            cast.call(role, "POST", f"/api/rooms/{room['id']}/members", invite)
            for role in ["owner", "admin"] * 3
        )
    )
    assert sorted(r.status_code for r in invites) == [201] + [409] * 5
    members = (await cast.call("owner", "GET", f"/api/rooms/{room['id']}/members")).json()
    assert len(members) == 7


async def test_a_ban_racing_a_join_keeps_the_user_out(cast: Cast) -> None:
    for _ in range(3):
        room = await cast.room()
        ban, join = await asyncio.gather(
            cast.call("owner", "POST", f"/api/rooms/{room['id']}/bans", {"user_id": cast.outsider.id}),
            cast.call("outsider", "POST", f"/api/rooms/{room['id']}/join"),
        )
        assert ban.status_code == 201
        assert join.status_code in (200, 403)
        members = (await cast.call("owner", "GET", f"/api/rooms/{room['id']}/members")).json()
        assert cast.outsider.id not in [m["user"]["id"] for m in members]
