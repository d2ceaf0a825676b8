"""GET /api/admin/audit: every moderation and administration act leaves one entry, written in
the act's own transaction, and site admins page through them newest first."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api.audit.models import AuditAction
from api.audit.service import record
from tests.factories import create_room, send
from tests.rooms.helpers import Cast, NewAccount, ban, context_of

ENTRY_FIELDS = {"id", "at", "actor", "action", "room_id", "target", "detail"}


async def entries(cast: Cast, **params: Any) -> list[dict[str, Any]]:
    response = await cast.call("site_admin", "GET", "/api/admin/audit", params=params)
    assert response.status_code == 200, response.text
    page = response.json()
    assert set(page) == {"entries", "has_more"}
    for entry in page["entries"]:
        assert set(entry) == ENTRY_FIELDS
    found: list[dict[str, Any]] = page["entries"]
    return found


async def newest(cast: Cast) -> dict[str, Any]:
    found = await entries(cast, limit=1)
    assert found, "no audit entry"
    return found[0]


def summary(account: Any) -> dict[str, Any]:
    return {"id": account.id, "username": account.username, "display_name": account.username}


async def test_a_kick_is_recorded(cast: Cast) -> None:
    room = await cast.room()
    path = f"/api/rooms/{room['id']}/members/{cast.target.id}"
    assert (await cast.call("admin", "DELETE", path)).status_code == 204
    entry = await newest(cast)
    assert entry["action"] == "kick"
    assert entry["actor"] == summary(cast.admin)
    assert entry["target"] == summary(cast.target)
    assert entry["room_id"] == room["id"]
    assert entry["detail"] == {"role": "member"}
    assert entry["at"].endswith(("Z", "+00:00"))


async def test_leaving_is_not_a_kick(cast: Cast) -> None:
    room = await cast.room()
    assert (await cast.call("member", "POST", f"/api/rooms/{room['id']}/leave")).status_code == 204
    path = f"/api/rooms/{room['id']}/members/{cast.target.id}"
    assert (await cast.call("target", "DELETE", path)).status_code == 204
    assert await entries(cast) == []


async def test_a_ban_and_its_lifting_are_recorded(cast: Cast) -> None:
    room = await cast.room()
    await ban(cast.client, cast.owner, room["id"], cast.target)
    await ban(cast.client, cast.owner, room["id"], cast.target)  # again: nothing changes
    await ban(cast.client, cast.owner, room["id"], cast.outsider)
    lifted = await cast.call("admin", "DELETE", f"/api/rooms/{room['id']}/bans/{cast.target.id}")
    assert lifted.status_code == 204
    unban, outsider_ban, target_ban = await entries(cast)
    assert (target_ban["action"], target_ban["target"]["id"]) == ("ban", cast.target.id)
    assert target_ban["detail"] == {"was_member": True}
    assert (outsider_ban["action"], outsider_ban["detail"]) == ("ban", {"was_member": False})
    assert unban["action"] == "unban"
    assert (unban["actor"]["id"], unban["target"]["id"], unban["room_id"]) == (
        cast.admin.id,
        cast.target.id,
        room["id"],
    )
    assert unban["detail"] is None


async def test_a_role_change_is_recorded_with_both_roles(cast: Cast) -> None:
    room = await cast.room()
    path = f"/api/rooms/{room['id']}/members/{cast.member.id}"
    assert (await cast.call("owner", "PATCH", path, {"role": "admin"})).status_code == 200
    assert (await cast.call("owner", "PATCH", path, {"role": "admin"})).status_code == 200  # no change
    [entry] = await entries(cast)
    assert entry["action"] == "role_change"
    assert (entry["actor"]["id"], entry["target"]["id"]) == (cast.owner.id, cast.member.id)
    assert entry["detail"] == {"from": "member", "to": "admin"}


async def test_a_room_update_is_recorded_with_what_changed(cast: Cast) -> None:
    room = await cast.room()
    change = {"name": "renamed", "description": room["description"], "is_private": True}
    assert (await cast.call("admin", "PATCH", f"/api/rooms/{room['id']}", change)).status_code == 200
    assert (await cast.call("site_admin", "PATCH", f"/api/rooms/{room['id']}", change)).status_code == 200
    [entry] = await entries(cast)  # the second changed nothing
    assert (entry["action"], entry["actor"]["id"], entry["room_id"]) == (
        "room_update",
        cast.admin.id,
        room["id"],
    )
    assert entry["target"] is None
    assert entry["detail"] == {
        "name": {"from": room["name"], "to": "renamed"},
        "is_private": {"from": False, "to": True},
    }


async def test_an_act_that_rolls_back_leaves_no_entry(cast: Cast) -> None:
    taken = await cast.room()
    room = await cast.room()
    refused = await cast.call("owner", "PATCH", f"/api/rooms/{room['id']}", {"name": taken["name"].upper()})
    assert refused.status_code == 409
    assert await entries(cast) == []


async def test_a_failed_transaction_takes_its_entry_with_it(app: FastAPI, cast: Cast) -> None:
    class Abort(Exception):
        pass

    with pytest.raises(Abort):
        async with context_of(app).db.writing() as session:
            record(session, actor_id=cast.site_admin.id, action=AuditAction.announcement)
            await session.flush()  # the row is written, then rolled back
            raise Abort
    assert await entries(cast) == []


async def test_room_deletions_are_recorded_and_outlive_the_room(cast: Cast) -> None:
    by_owner = await cast.room()
    by_site_admin = await cast.room()
    assert (await cast.call("owner", "DELETE", f"/api/rooms/{by_owner['id']}")).status_code == 204
    gone = await cast.call("site_admin", "DELETE", f"/api/admin/rooms/{by_site_admin['id']}")
    assert gone.status_code == 204
    admin_entry, owner_entry = await entries(cast)
    assert (owner_entry["action"], owner_entry["actor"]["id"], owner_entry["room_id"]) == (
        "room_delete",
        cast.owner.id,
        by_owner["id"],
    )
    assert owner_entry["detail"] == {"name": by_owner["name"]}
    assert (admin_entry["action"], admin_entry["actor"]["id"], admin_entry["room_id"]) == (
        "room_delete",
        cast.site_admin.id,
        by_site_admin["id"],
    )


async def test_only_deleting_someone_elses_message_is_recorded(cast: Cast) -> None:
    room = await cast.room()
    own = await send(cast.client, cast.member, room["id"], "mine")
    theirs = await send(cast.client, cast.target, room["id"], "theirs")
    base = f"/api/rooms/{room['id']}/messages"
    assert (await cast.call("member", "DELETE", f"{base}/{own['seq']}")).status_code == 204
    assert await entries(cast) == []
    assert (await cast.call("admin", "DELETE", f"{base}/{theirs['seq']}")).status_code == 204
    assert (await cast.call("admin", "DELETE", f"{base}/{theirs['seq']}")).status_code == 204  # gone already
    [entry] = await entries(cast)
    assert entry["action"] == "message_delete"
    assert (entry["actor"]["id"], entry["target"]["id"], entry["room_id"]) == (
        cast.admin.id,
        cast.target.id,
        room["id"],
    )
    assert entry["detail"] == {"seq": theirs["seq"]}


async def test_a_site_admin_deleting_a_message_is_recorded(cast: Cast) -> None:
    room = await cast.room()
    message = await send(cast.client, cast.member, room["id"], "hello")
    path = f"/api/rooms/{room['id']}/messages/{message['seq']}"
    assert (await cast.call("site_admin", "DELETE", path)).status_code == 204
    entry = await newest(cast)
    assert (entry["action"], entry["actor"]["id"], entry["target"]["id"]) == (
        "message_delete",
        cast.site_admin.id,
        cast.member.id,
    )


@pytest.mark.parametrize(
    ("before", "change", "action"),
    [
        ({"is_active": True}, {"is_active": False}, "user_deactivate"),
        ({"is_active": False}, {"is_active": True}, "user_activate"),
        ({"is_admin": False}, {"is_admin": True}, "admin_grant"),
        ({"is_admin": True}, {"is_admin": False}, "admin_revoke"),
    ],
)
async def test_account_changes_are_recorded(
    cast: Cast, new_account: NewAccount, before: dict[str, bool], change: dict[str, bool], action: str
) -> None:
    someone = await new_account()
    path = f"/api/admin/users/{someone.id}"
    assert (await cast.call("site_admin", "PATCH", path, before)).status_code == 200  # the starting state
    earlier = len(await entries(cast))
    assert (await cast.call("site_admin", "PATCH", path, change)).status_code == 200
    assert (await cast.call("site_admin", "PATCH", path, change)).status_code == 200  # no change
    found = await entries(cast)
    assert len(found) == earlier + 1
    entry = found[0]
    assert entry == {
        "id": entry["id"],
        "at": entry["at"],
        "actor": summary(cast.site_admin),
        "action": action,
        "room_id": None,
        "target": summary(someone),
        "detail": None,
    }


async def test_one_change_of_both_flags_is_two_entries(cast: Cast, new_account: NewAccount) -> None:
    someone = await new_account()
    change = {"is_active": False, "is_admin": True}
    assert (
        await cast.call("site_admin", "PATCH", f"/api/admin/users/{someone.id}", change)
    ).status_code == 200
    assert {entry["action"] for entry in await entries(cast)} == {"user_deactivate", "admin_grant"}


async def test_invites_and_admin_made_accounts_are_recorded(cast: Cast) -> None:
    made = await cast.call("site_admin", "POST", "/api/admin/invites", {"uses": 3})
    assert made.status_code == 201
    invite = made.json()
    entry = await newest(cast)
    assert (entry["action"], entry["actor"], entry["target"]) == (
        "invite_create",
        summary(cast.site_admin),
        None,
    )
    assert entry["detail"]["invite_id"] == invite["id"] and entry["detail"]["uses"] == 3
    assert invite["code"] not in str(entry)  # the code itself is a secret
    assert (await cast.call("site_admin", "DELETE", f"/api/admin/invites/{invite['id']}")).status_code == 204
    assert ((await newest(cast))["action"], (await newest(cast))["detail"]) == (
        "invite_revoke",
        {"invite_id": invite["id"]},
    )
    account = {"username": "newcomer", "password": "long enough secret"}
    created = await cast.call("site_admin", "POST", "/api/admin/users", account)
    assert created.status_code == 201
    entry = await newest(cast)
    assert (entry["action"], entry["target"]["id"], entry["detail"]) == (
        "user_create",
        created.json()["id"],
        {"is_admin": False},
    )
    assert "long enough secret" not in str(entry)
    # A refused act leaves nothing.
    assert (await cast.call("site_admin", "POST", "/api/admin/users", account)).status_code == 409
    assert (await newest(cast))["action"] == "user_create"
    assert len([e for e in await entries(cast) if e["action"] == "user_create"]) == 1


async def test_record_accepts_every_action_the_spec_lists(app: FastAPI, cast: Cast) -> None:
    """Including those whose features call it from elsewhere (bots, tokens, invites...)."""
    async with context_of(app).db.writing() as session:
        for action in AuditAction:
            record(
                session,
                actor_id=cast.site_admin.id,
                action=action,
                target_id=cast.target.id,
                detail={"what": action.value},
            )
    found = await entries(cast, limit=200)
    assert [entry["action"] for entry in reversed(found)] == [action.value for action in AuditAction]
    assert {entry["detail"]["what"] for entry in found} == {action.value for action in AuditAction}
    assert len(AuditAction) == 18


async def test_pages_go_back_by_id(app: FastAPI, cast: Cast) -> None:
    async with context_of(app).db.writing() as session:
        for index in range(7):
            record(session, actor_id=cast.site_admin.id, action=AuditAction.kick, detail={"n": index})
    first = (await cast.call("site_admin", "GET", "/api/admin/audit", params={"limit": 3})).json()
    assert [e["detail"]["n"] for e in first["entries"]] == [6, 5, 4]
    assert first["has_more"] is True
    ids = [e["id"] for e in first["entries"]]
    assert ids == sorted(ids, reverse=True)
    second = (
        await cast.call("site_admin", "GET", "/api/admin/audit", params={"limit": 3, "before": ids[-1]})
    ).json()
    assert [e["detail"]["n"] for e in second["entries"]] == [3, 2, 1]
    last = (
        await cast.call(
            "site_admin", "GET", "/api/admin/audit", params={"before": second["entries"][-1]["id"]}
        )
    ).json()
    assert ([e["detail"]["n"] for e in last["entries"]], last["has_more"]) == ([0], False)
    everything = (await cast.call("site_admin", "GET", "/api/admin/audit")).json()
    assert (len(everything["entries"]), everything["has_more"]) == (7, False)


async def test_only_site_admins_read_it(cast: Cast) -> None:
    for role in ("owner", "admin", "member", "outsider"):
        assert (await cast.call(role, "GET", "/api/admin/audit")).status_code == 403, role
    for role in ("anonymous", "deactivated"):
        refused = await cast.call(role, "GET", "/api/admin/audit")
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "params",
    [
        {"before": "abc"},
        {"before": "0"},
        {"before": "-1"},
        {"before": "1.5"},
        {"before": "99999999999999999999999"},
        {"before": "\x00"},
        {"limit": "0"},
        {"limit": "201"},
        {"limit": "lots"},
        {"limit": "NaN"},
    ],
)
async def test_bad_paging_is_422(cast: Cast, params: dict[str, str]) -> None:
    response = await cast.call("site_admin", "GET", "/api/admin/audit", params=params)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "query"


async def test_an_unknown_before_is_just_a_bound(cast: Cast, client: httpx.AsyncClient) -> None:
    room = await create_room(client, cast.owner)
    await ban(client, cast.owner, room["id"], cast.target)
    page = (await cast.call("site_admin", "GET", "/api/admin/audit", params={"before": 2**62})).json()
    assert [e["action"] for e in page["entries"]] == ["ban"]
