"""Bans: listing, banning (which removes the membership and keeps them out) and lifting."""

from __future__ import annotations

from typing import Any

import pytest

from tests.rooms.helpers import MALFORMED_IDS, UNKNOWN_ID, Cast, ban, role_of


def bans_url(room: dict[str, Any], user_id: object = None) -> str:
    suffix = "" if user_id is None else f"/{user_id}"
    return f"/api/rooms/{room['id']}/bans{suffix}"


@pytest.mark.parametrize("banner", ["owner", "admin"])
async def test_a_ban_removes_the_membership_and_is_listed(cast: Cast, banner: str) -> None:
    room = await cast.room()
    response = await cast.call(banner, "POST", bans_url(room), {"user_id": cast.target.id})
    assert response.status_code == 201
    banned = response.json()
    assert set(banned) == {"user", "banned_at", "banned_by"}
    assert banned["user"] == cast.target.summary
    assert banned["banned_by"] == getattr(cast, banner).summary
    assert banned["banned_at"].endswith("Z")
    assert await role_of(cast.client, cast.owner, room["id"], cast.target) is None
    listed = await cast.call("admin", "GET", bans_url(room))
    assert listed.json() == [banned]


async def test_a_banned_user_cannot_join_or_be_invited_until_the_ban_is_lifted(cast: Cast) -> None:
    room = await cast.room()
    await ban(cast.client, cast.admin, room["id"], cast.target)
    join = f"/api/rooms/{room['id']}/join"
    invite = {"username": cast.target.username}
    assert (await cast.call("target", "POST", join)).status_code == 403
    assert (await cast.call("owner", "POST", f"/api/rooms/{room['id']}/members", invite)).status_code == 403
    assert (await cast.call("target", "GET", f"/api/rooms/{room['id']}/messages")).status_code == 403
    assert (
        await cast.call("target", "POST", f"/api/rooms/{room['id']}/messages", {"body": "hi"})
    ).status_code == 403
    lifted = await cast.call("admin", "DELETE", bans_url(room, cast.target.id))
    assert lifted.status_code == 204
    assert lifted.content == b""
    assert (await cast.call("owner", "GET", bans_url(room))).json() == []
    assert (await cast.call("target", "POST", join)).status_code == 200


async def test_a_banned_user_loses_sight_of_a_private_room_and_may_be_invited_after_the_ban(
    cast: Cast,
) -> None:
    room = await cast.room(private=True)
    await ban(cast.client, cast.owner, room["id"], cast.target)
    assert (await cast.call("target", "GET", f"/api/rooms/{room['id']}")).status_code == 404
    assert (await cast.call("target", "POST", f"/api/rooms/{room['id']}/join")).status_code == 404
    invite = {"username": cast.target.username}
    assert (await cast.call("owner", "POST", f"/api/rooms/{room['id']}/members", invite)).status_code == 403
    await cast.call("owner", "DELETE", bans_url(room, cast.target.id))
    assert (await cast.call("owner", "POST", f"/api/rooms/{room['id']}/members", invite)).status_code == 201
    assert (await cast.call("target", "GET", f"/api/rooms/{room['id']}")).status_code == 200


async def test_a_non_member_can_be_banned_pre_emptively(cast: Cast) -> None:
    room = await cast.room()
    response = await cast.call("owner", "POST", bans_url(room), {"user_id": cast.outsider.id})
    assert response.status_code == 201
    assert (await cast.call("outsider", "POST", f"/api/rooms/{room['id']}/join")).status_code == 403
    # Banning again changes nothing.
    again = await cast.call("owner", "POST", bans_url(room), {"user_id": cast.outsider.id})
    assert again.status_code == 201
    assert again.json() == response.json()
    assert len((await cast.call("owner", "GET", bans_url(room))).json()) == 1


async def test_room_admins_cannot_ban_owners_and_nobody_bans_themself(cast: Cast) -> None:
    room = await cast.room()
    assert (await cast.call("admin", "POST", bans_url(room), {"user_id": cast.owner.id})).status_code == 403
    assert (await cast.call("owner", "POST", bans_url(room), {"user_id": cast.owner.id})).status_code == 403
    assert (await cast.call("admin", "POST", bans_url(room), {"user_id": cast.admin.id})).status_code == 403
    assert await role_of(cast.client, cast.owner, room["id"], cast.owner) == "owner"
    assert await role_of(cast.client, cast.owner, room["id"], cast.admin) == "admin"
    assert (await cast.call("owner", "GET", bans_url(room))).json() == []
    # An owner may ban a room admin.
    assert (await cast.call("owner", "POST", bans_url(room), {"user_id": cast.admin.id})).status_code == 201


async def test_banning_an_unknown_user_is_404_and_a_bad_body_422(cast: Cast) -> None:
    room = await cast.room()
    for user_id in [424242, 0, -1, 2**31, 10**20]:
        response = await cast.call("owner", "POST", bans_url(room), {"user_id": user_id})
        assert response.status_code == 404, user_id
    for body in [{}, {"user_id": None}, {"user_id": "abc"}, {"user_id": 1.5}, {"user_id": [1]}, [], "1"]:
        response = await cast.call("owner", "POST", bans_url(room), body)
        assert response.status_code == 422, body
    assert (await cast.call("owner", "GET", bans_url(room))).json() == []


async def test_lifting_a_ban_that_does_not_exist_is_404(cast: Cast) -> None:
    room = await cast.room()
    await ban(cast.client, cast.owner, room["id"], cast.target)
    for user_id in [cast.member.id, UNKNOWN_ID, *MALFORMED_IDS]:
        response = await cast.call("owner", "DELETE", bans_url(room, user_id))
        assert response.status_code == 404, user_id
    assert (await cast.call("owner", "DELETE", bans_url(room, cast.target.id))).status_code == 204
    assert (await cast.call("owner", "DELETE", bans_url(room, cast.target.id))).status_code == 404


async def test_a_ban_holds_in_one_room_only(cast: Cast) -> None:
    room, other = await cast.room(), await cast.room()
    await ban(cast.client, cast.owner, room["id"], cast.target)
    assert await role_of(cast.client, cast.owner, other["id"], cast.target) == "member"
    assert (await cast.call("owner", "GET", bans_url(other))).json() == []
