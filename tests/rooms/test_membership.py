"""Joining, leaving, the member list, invitations, roles and kicks."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import create_room
from tests.rooms.helpers import MALFORMED_IDS, UNKNOWN_ID, Cast, NewAccount, role_of


def members_url(room: dict[str, Any], user_id: object = None) -> str:
    suffix = "" if user_id is None else f"/{user_id}"
    return f"/api/rooms/{room['id']}/members{suffix}"


# --- join and leave -----------------------------------------------------------------------


async def test_joining_a_public_room_gives_a_membership(cast: Cast) -> None:
    room = await cast.room()
    response = await cast.call("outsider", "POST", f"/api/rooms/{room['id']}/join")
    assert response.status_code == 200
    membership = response.json()
    assert set(membership) == {"room_id", "user", "role", "joined_at"}
    assert membership["room_id"] == room["id"]
    assert membership["user"] == cast.outsider.summary
    assert membership["role"] == "member"
    assert membership["joined_at"].endswith("Z")
    again = await cast.call("outsider", "POST", f"/api/rooms/{room['id']}/join")
    assert again.status_code == 200
    assert again.json() == membership
    read = await cast.call("outsider", "GET", f"/api/rooms/{room['id']}")
    assert read.json()["member_count"] == 6


async def test_joining_again_keeps_an_owners_role(cast: Cast) -> None:
    room = await cast.room()
    response = await cast.call("owner", "POST", f"/api/rooms/{room['id']}/join")
    assert response.status_code == 200
    assert response.json()["role"] == "owner"


async def test_a_private_room_cannot_be_joined_only_invited_into(cast: Cast) -> None:
    room = await cast.room(private=True)
    for role in ("outsider", "site_admin"):
        response = await cast.call(role, "POST", f"/api/rooms/{room['id']}/join")
        assert response.status_code == 404, role
    assert await role_of(cast.client, cast.owner, room["id"], cast.outsider) is None
    assert await role_of(cast.client, cast.owner, room["id"], cast.site_admin) is None


async def test_leaving_removes_the_membership(cast: Cast) -> None:
    room = await cast.room()
    response = await cast.call("member", "POST", f"/api/rooms/{room['id']}/leave")
    assert response.status_code == 204
    assert response.content == b""
    assert await role_of(cast.client, cast.owner, room["id"], cast.member) is None
    again = await cast.call("member", "POST", f"/api/rooms/{room['id']}/leave")
    assert again.status_code == 403
    rejoin = await cast.call("member", "POST", f"/api/rooms/{room['id']}/join")
    assert rejoin.status_code == 200


async def test_leaving_a_private_room_makes_it_invisible(cast: Cast) -> None:
    room = await cast.room(private=True)
    assert (await cast.call("member", "POST", f"/api/rooms/{room['id']}/leave")).status_code == 204
    assert (await cast.call("member", "GET", f"/api/rooms/{room['id']}")).status_code == 404
    assert (await cast.call("member", "POST", f"/api/rooms/{room['id']}/leave")).status_code == 404


async def test_the_last_owner_cannot_leave_but_one_of_two_can(cast: Cast) -> None:
    room = await cast.room()
    refused = await cast.call("owner", "POST", f"/api/rooms/{room['id']}/leave")
    assert refused.status_code == 409
    assert await role_of(cast.client, cast.owner, room["id"], cast.owner) == "owner"
    await cast.call("owner", "PATCH", members_url(room, cast.admin.id), {"role": "owner"})
    assert (await cast.call("owner", "POST", f"/api/rooms/{room['id']}/leave")).status_code == 204
    assert (await cast.call("admin", "POST", f"/api/rooms/{room['id']}/leave")).status_code == 409


# --- the member list ------------------------------------------------------------------------


async def test_members_are_listed_with_roles_and_nobody_online(cast: Cast) -> None:
    room = await cast.room()
    response = await cast.call("member", "GET", members_url(room))
    assert response.status_code == 200
    members = response.json()
    assert all(set(m) == {"user", "role", "joined_at", "online"} for m in members)
    assert {m["user"]["id"]: m["role"] for m in members} == {
        cast.owner.id: "owner",
        cast.admin.id: "admin",
        cast.member.id: "member",
        cast.target.id: "member",
        cast.deactivated.id: "member",
    }
    assert [m["online"] for m in members] == [False] * 5
    owner = next(m for m in members if m["user"]["id"] == cast.owner.id)
    assert owner["user"] == {**cast.owner.summary, "is_bot": False}


# --- invitations ----------------------------------------------------------------------------


@pytest.mark.parametrize("inviter", ["owner", "admin"])
async def test_invited_users_become_members_of_a_private_room(cast: Cast, inviter: str) -> None:
    room = await cast.room(private=True)
    response = await cast.call(
        inviter, "POST", members_url(room), {"username": cast.outsider.username.upper()}
    )
    assert response.status_code == 201
    assert response.json()["user"] == cast.outsider.summary
    assert response.json()["role"] == "member"
    assert response.json()["room_id"] == room["id"]
    read = await cast.call("outsider", "GET", f"/api/rooms/{room['id']}")
    assert read.status_code == 200
    listed = await cast.call("outsider", "GET", "/api/rooms")
    assert [r["id"] for r in listed.json()] == [room["id"]]


async def test_owners_invite_with_any_role_and_room_admins_not_as_owner(
    cast: Cast, new_account: NewAccount
) -> None:
    room = await cast.room()
    third, fourth, fifth = [await new_account() for _ in range(3)]
    as_owner = await cast.call(
        "owner", "POST", members_url(room), {"username": third.username, "role": "owner"}
    )
    assert as_owner.json()["role"] == "owner"
    as_admin = await cast.call(
        "admin", "POST", members_url(room), {"username": fourth.username, "role": "admin"}
    )
    assert as_admin.status_code == 201
    assert as_admin.json()["role"] == "admin"
    refused = await cast.call(
        "admin", "POST", members_url(room), {"username": fifth.username, "role": "owner"}
    )
    assert refused.status_code == 403
    assert await role_of(cast.client, cast.owner, room["id"], fifth) is None


async def test_inviting_a_member_is_409_and_an_unknown_username_404(cast: Cast) -> None:
    room = await cast.room()
    member = await cast.call("owner", "POST", members_url(room), {"username": cast.member.username})
    assert member.status_code == 409
    assert await role_of(cast.client, cast.owner, room["id"], cast.member) == "member"
    for username in ("nobody", "nobody_" + "x" * 25, "or_1.1"):
        unknown = await cast.call("owner", "POST", members_url(room), {"username": username})
        assert unknown.status_code == 404, username


async def test_invalid_invitations_get_422(cast: Cast) -> None:
    room = await cast.room()
    for body in [
        {},
        {"role": "member"},
        {"username": ""},
        {"username": "ab"},
        {"username": "x" * 33},
        {"username": "' OR '1'='1"},
        {"username": "<b>bob</b>"},
        {"username": "bob\x00"},
        {"username": 5},
        {"username": cast.outsider.username, "role": "king"},
        {"username": cast.outsider.username, "role": "Owner"},
        {"username": cast.outsider.username, "role": None},
        [],
        "bob",
    ]:
        response = await cast.call("owner", "POST", members_url(room), body)
        assert response.status_code == 422, body
    assert await role_of(cast.client, cast.owner, room["id"], cast.outsider) is None


# --- roles ----------------------------------------------------------------------------------


async def test_owners_set_any_role(cast: Cast) -> None:
    room = await cast.room()
    for role in ("admin", "owner", "member", "owner"):
        response = await cast.call("owner", "PATCH", members_url(room, cast.target.id), {"role": role})
        assert response.status_code == 200, role
        assert response.json()["role"] == role
        assert response.json()["user"] == cast.target.summary
        assert await role_of(cast.client, cast.owner, room["id"], cast.target) == role
    # Now two owners: one may demote the other.
    demoted = await cast.call("target", "PATCH", members_url(room, cast.owner.id), {"role": "member"})
    assert demoted.status_code == 200


async def test_room_admins_switch_members_and_admins_only(cast: Cast) -> None:
    room = await cast.room()
    url = members_url(room, cast.target.id)
    assert (await cast.call("admin", "PATCH", url, {"role": "admin"})).json()["role"] == "admin"
    assert (await cast.call("admin", "PATCH", url, {"role": "member"})).json()["role"] == "member"
    assert (await cast.call("admin", "PATCH", url, {"role": "owner"})).status_code == 403
    assert (
        await cast.call("admin", "PATCH", members_url(room, cast.admin.id), {"role": "owner"})
    ).status_code == 403
    for role in ("member", "admin", "owner"):
        response = await cast.call("admin", "PATCH", members_url(room, cast.owner.id), {"role": role})
        assert response.status_code == 403, role
    assert await role_of(cast.client, cast.owner, room["id"], cast.owner) == "owner"
    assert await role_of(cast.client, cast.owner, room["id"], cast.target) == "member"


async def test_the_last_owner_cannot_be_demoted(cast: Cast) -> None:
    room = await cast.room()
    for role in ("admin", "member"):
        response = await cast.call("owner", "PATCH", members_url(room, cast.owner.id), {"role": role})
        assert response.status_code == 409
    assert await role_of(cast.client, cast.owner, room["id"], cast.owner) == "owner"
    same = await cast.call("owner", "PATCH", members_url(room, cast.owner.id), {"role": "owner"})
    assert same.status_code == 200


async def test_roles_of_non_members_and_bad_roles(cast: Cast) -> None:
    room = await cast.room()
    for user_id in [cast.outsider.id, UNKNOWN_ID, *MALFORMED_IDS]:
        response = await cast.call("owner", "PATCH", members_url(room, user_id), {"role": "admin"})
        assert response.status_code == 404, user_id
    for body in [{}, {"role": "root"}, {"role": 1}, {"role": None}, [], "admin"]:
        response = await cast.call("owner", "PATCH", members_url(room, cast.target.id), body)
        assert response.status_code == 422, body


# --- kicks ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kicker", ["owner", "admin"])
async def test_a_kicked_user_may_join_a_public_room_again(cast: Cast, kicker: str) -> None:
    room = await cast.room()
    response = await cast.call(kicker, "DELETE", members_url(room, cast.target.id))
    assert response.status_code == 204
    assert await role_of(cast.client, cast.owner, room["id"], cast.target) is None
    assert (await cast.call("target", "GET", f"/api/rooms/{room['id']}/messages")).status_code == 403
    rejoin = await cast.call("target", "POST", f"/api/rooms/{room['id']}/join")
    assert rejoin.status_code == 200
    assert rejoin.json()["role"] == "member"


async def test_a_user_kicked_from_a_private_room_loses_sight_of_it(cast: Cast) -> None:
    room = await cast.room(private=True)
    assert (await cast.call("owner", "DELETE", members_url(room, cast.target.id))).status_code == 204
    assert (await cast.call("target", "GET", f"/api/rooms/{room['id']}")).status_code == 404
    assert (await cast.call("target", "POST", f"/api/rooms/{room['id']}/join")).status_code == 404


async def test_room_admins_cannot_kick_owners_but_can_kick_admins(cast: Cast) -> None:
    room = await cast.room()
    assert (await cast.call("admin", "DELETE", members_url(room, cast.owner.id))).status_code == 403
    assert await role_of(cast.client, cast.owner, room["id"], cast.owner) == "owner"
    await cast.call("owner", "PATCH", members_url(room, cast.target.id), {"role": "admin"})
    assert (await cast.call("admin", "DELETE", members_url(room, cast.target.id))).status_code == 204


async def test_removing_oneself_is_leaving_and_the_last_owner_cannot(
    cast: Cast, new_account: NewAccount
) -> None:
    room = await cast.room()
    assert (await cast.call("member", "DELETE", members_url(room, cast.member.id))).status_code == 204
    assert await role_of(cast.client, cast.owner, room["id"], cast.member) is None
    assert (await cast.call("owner", "DELETE", members_url(room, cast.owner.id))).status_code == 409
    second = await new_account()
    await cast.call("owner", "POST", members_url(room), {"username": second.username, "role": "owner"})
    # With two owners, one may remove the other.
    assert (await cast.call("owner", "DELETE", members_url(room, second.id))).status_code == 204


async def test_kicking_a_non_member_or_a_malformed_id_is_404(cast: Cast) -> None:
    room = await cast.room()
    for user_id in [cast.outsider.id, UNKNOWN_ID, *MALFORMED_IDS]:
        response = await cast.call("owner", "DELETE", members_url(room, user_id))
        assert response.status_code == 404, user_id


async def test_member_routes_on_another_rooms_member_are_404(
    client: httpx.AsyncClient, new_account: NewAccount
) -> None:
    ada, bob = await new_account(), await new_account()
    mine, theirs = await create_room(client, ada), await create_room(client, bob)
    response = await client.patch(members_url(mine, bob.id), json={"role": "admin"}, headers=ada.headers)
    assert response.status_code == 404
    assert await role_of(client, bob, theirs["id"], bob) == "owner"
