"""POST /api/admin/bots and a bot's tokens: site admins with a login access token make bots
(no password: logging in fails as a wrong password does) and make and revoke their tokens;
every act is in the audit log, never a token."""

from __future__ import annotations

from typing import Any

from api.auth.passwords import NO_PASSWORD
from tests.rooms.fixtures import _no_server_errors, cast, new_account
from tests.rooms.helpers import Cast
from tests.tokens.support import bearer, make_token

__all__ = ["_no_server_errors", "cast", "new_account"]

USER_FIELDS = {"id", "username", "display_name", "is_admin", "is_bot", "created_at"}


async def make_bot(cast: Cast, username: str = "ci-bot", **body: Any) -> dict[str, Any]:
    response = await cast.call("site_admin", "POST", "/api/admin/bots", {"username": username, **body})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def tokens_path(bot: dict[str, Any] | int, token_id: object = None) -> str:
    user_id = bot if isinstance(bot, int) else bot["user"]["id"]
    path = f"/api/admin/bots/{user_id}/tokens"
    return path if token_id is None else f"{path}/{token_id}"


async def audit(cast: Cast) -> list[dict[str, Any]]:
    response = await cast.call("site_admin", "GET", "/api/admin/audit")
    assert response.status_code == 200
    entries: list[dict[str, Any]] = response.json()["entries"]
    return entries


async def test_a_bot_is_made_with_its_first_token(cast: Cast) -> None:
    created = await make_bot(cast, "CI-Bot", display_name="  CI results  ")
    assert set(created) == {"user", "token"}
    user = created["user"]
    assert set(user) == USER_FIELDS
    assert (user["username"], user["display_name"], user["is_bot"], user["is_admin"]) == (
        "CI-Bot",
        "CI results",
        True,
        False,
    )
    me = await cast.client.get("/api/users/me", headers=bearer(created["token"]))
    assert me.status_code == 200
    assert me.json() == user
    listed = (await cast.call("site_admin", "GET", "/api/admin/users", params={"q": "ci-bot"})).json()
    assert [(u["username"], u["is_bot"]) for u in listed] == [("CI-Bot", True)]
    people = (await cast.call("site_admin", "GET", "/api/admin/users", params={"q": "owner"})).json()
    assert people and not any(u["is_bot"] for u in people)
    assert (await cast.call("owner", "GET", "/api/users/me")).json()["is_bot"] is False
    [token] = (await cast.call("site_admin", "GET", tokens_path(created))).json()
    assert (token["name"], token["expires_at"]) == ("default", None)
    assert token["last_used_at"] is not None  # the /api/users/me above


async def test_a_bot_takes_part_in_rooms_like_anyone(cast: Cast) -> None:
    created = await make_bot(cast)
    bot = created["user"]
    room = await cast.room()
    invited = await cast.call(
        "owner", "POST", f"/api/rooms/{room['id']}/members", {"username": bot["username"]}
    )
    assert invited.status_code == 201
    members = (await cast.call("member", "GET", f"/api/rooms/{room['id']}/members")).json()
    assert {m["user"]["id"]: m["user"]["is_bot"] for m in members}[bot["id"]] is True
    assert not any(m["user"]["is_bot"] for m in members if m["user"]["id"] != bot["id"])
    sent = await cast.client.post(
        f"/api/rooms/{room['id']}/messages", json={"body": "build passed"}, headers=bearer(created["token"])
    )
    assert sent.status_code == 201
    assert sent.json()["author"]["id"] == bot["id"]
    public = await cast.room()
    joined = await cast.client.post(f"/api/rooms/{public['id']}/join", headers=bearer(created["token"]))
    assert joined.status_code == 200


async def test_usernames_are_taken_ignoring_case(cast: Cast) -> None:
    await make_bot(cast, "helper")
    for taken in ("HELPER", cast.owner.username.upper()):
        response = await cast.call("site_admin", "POST", "/api/admin/bots", {"username": taken})
        assert response.status_code == 409, taken


BAD_BOTS: list[dict[str, Any]] = [
    {},
    {"username": "ab"},
    {"username": "x" * 33},
    {"username": "has space"},
    {"username": "ünï"},
    {"username": "bot\x00"},
    {"username": 42},
    {"username": None},
    {"username": "okay-bot", "display_name": "   "},
    {"username": "okay-bot", "display_name": "x" * 65},
    {"username": "okay-bot", "display_name": "two\nlines"},
    {"username": "okay-bot", "display_name": 5},
]


async def test_bad_bots_are_422(cast: Cast) -> None:
    for body in BAD_BOTS:
        response = await cast.call("site_admin", "POST", "/api/admin/bots", body)
        assert response.status_code == 422, (body, response.text)
    listed = await cast.call("site_admin", "GET", "/api/admin/users", params={"q": "okay-bot"})
    assert listed.json() == []


async def test_only_site_admins_with_a_login_token_make_bots_and_their_tokens(cast: Cast) -> None:
    created = await make_bot(cast)
    admin_api_token = (await make_token(cast.client, cast.site_admin))["token"]
    calls = [
        ("POST", "/api/admin/bots", {"username": "another"}),
        ("GET", tokens_path(created), None),
        ("POST", tokens_path(created), {"name": "more"}),
        ("DELETE", tokens_path(created, 1), None),
    ]
    for method, path, body in calls:
        for role in ("owner", "member", "outsider"):
            assert (await cast.call(role, method, path, body)).status_code == 403, (role, method, path)
        for headers in (bearer(admin_api_token), bearer(created["token"])):
            response = await cast.client.request(method, path, json=body, headers=headers)
            assert response.status_code == 403, (method, path)
        assert (await cast.call("deactivated", method, path, body)).status_code == 401
        assert (await cast.call("anonymous", method, path, body)).status_code == 401
    # Nothing was made or revoked.
    assert len((await cast.call("site_admin", "GET", tokens_path(created))).json()) == 1
    assert (await cast.call("site_admin", "GET", "/api/admin/users", params={"q": "another"})).json() == []
    # A bot cannot make tokens of its own either.
    response = await cast.client.post(
        "/api/me/tokens", json={"name": "mine"}, headers=bearer(created["token"])
    )
    assert response.status_code == 403


async def test_logging_in_as_a_bot_fails_as_a_wrong_password_does(cast: Cast) -> None:
    created = await make_bot(cast, "quiet-bot")
    # Its token cannot set a password: it has no current one to give (a failed login, counted).
    changed = await cast.client.put(
        "/api/users/me/password",
        json={"current_password": NO_PASSWORD, "new_password": "a new password"},
        headers=bearer(created["token"]),
    )
    assert changed.status_code == 403
    wrong = await cast.client.post(
        "/api/auth/login", data={"username": cast.owner.username, "password": "not the password"}
    )
    assert wrong.status_code == 401
    for password in ("anything at all", NO_PASSWORD, created["token"], "a new password"):
        response = await cast.client.post(
            "/api/auth/login", data={"username": "quiet-bot", "password": password}
        )
        assert (response.status_code, response.json()) == (wrong.status_code, wrong.json()), password
        assert response.headers["WWW-Authenticate"] == "Bearer"
    # Counted as failed logins: the throttle stops the guessing (5 failures by default).
    response = await cast.client.post("/api/auth/login", data={"username": "quiet-bot", "password": "x"})
    assert response.status_code == 429


async def test_admins_make_list_and_revoke_a_bots_tokens(cast: Cast) -> None:
    created = await make_bot(cast)
    path = tokens_path(created)
    second = await cast.call("site_admin", "POST", path, {"name": "deploys", "expires_days": 7})
    assert second.status_code == 201
    token = second.json()
    assert set(token) == {"id", "name", "token", "created_at", "expires_at", "last_used_at"}
    assert token["token"].startswith("hbb_") and token["expires_at"] is not None
    me = await cast.client.get("/api/users/me", headers=bearer(token["token"]))
    assert me.json()["id"] == created["user"]["id"]
    listed = (await cast.call("site_admin", "GET", path)).json()
    assert [t["name"] for t in listed] == ["deploys", "default"]
    assert "token" not in listed[0]
    first_id = listed[1]["id"]
    assert (await cast.call("site_admin", "DELETE", tokens_path(created, first_id))).status_code == 204
    response = await cast.client.get("/api/users/me", headers=bearer(created["token"]))
    assert (response.status_code, response.json()) == (401, {"detail": "Token revoked"})
    assert [t["id"] for t in (await cast.call("site_admin", "GET", path)).json()] == [token["id"]]
    assert (await cast.call("site_admin", "DELETE", tokens_path(created, first_id))).status_code == 404


async def test_the_bot_token_routes_are_404_for_anyone_not_a_bot(cast: Cast) -> None:
    one, other = await make_bot(cast, "bot-one"), await make_bot(cast, "bot-two")
    persons_token = await make_token(cast.client, cast.member)
    [others_token] = (await cast.call("site_admin", "GET", tokens_path(other))).json()
    for user_id in [
        cast.member.id,
        cast.site_admin.id,
        "424242",
        "abc",
        "0",
        "-1",
        "1.5",
        "%00",
        "99999999999",
    ]:
        for method, path, body in [
            ("GET", f"/api/admin/bots/{user_id}/tokens", None),
            ("POST", f"/api/admin/bots/{user_id}/tokens", {"name": "x"}),
            ("DELETE", f"/api/admin/bots/{user_id}/tokens/{persons_token['id']}", None),
        ]:
            response = await cast.call("site_admin", method, path, body)
            assert response.status_code == 404, (method, path)
    # Another bot's token through this bot's path, and ids that are no token.
    for token_id in [others_token["id"], persons_token["id"], "424242", "abc", "0", "%00"]:
        response = await cast.call("site_admin", "DELETE", tokens_path(one, token_id))
        assert response.status_code == 404, token_id
    for token in (other["token"], persons_token["token"]):
        assert (await cast.client.get("/api/users/me", headers=bearer(token))).status_code == 200


async def test_bad_bot_token_requests_are_422(cast: Cast) -> None:
    created = await make_bot(cast)
    for body in (
        {},
        {"name": ""},
        {"name": "x" * 101},
        {"name": "ok", "expires_days": 0},
        {"name": "ok", "expires_days": "1"},
    ):
        assert (await cast.call("site_admin", "POST", tokens_path(created), body)).status_code == 422, body
    assert len((await cast.call("site_admin", "GET", tokens_path(created))).json()) == 1


async def test_bots_and_their_tokens_are_audited_without_the_tokens(cast: Cast) -> None:
    created = await make_bot(cast)
    bot_id = created["user"]["id"]
    [first] = (await cast.call("site_admin", "GET", tokens_path(created))).json()
    second = (await cast.call("site_admin", "POST", tokens_path(created), {"name": "alerts"})).json()
    assert (await cast.call("site_admin", "DELETE", tokens_path(created, second["id"]))).status_code == 204
    # A person's own tokens are theirs, not an administration act.
    own = await make_token(cast.client, cast.member)
    assert (await cast.call("member", "DELETE", f"/api/me/tokens/{own['id']}")).status_code == 204
    entries = await audit(cast)
    assert [(e["action"], e["target"]["id"] if e["target"] else None, e["detail"]) for e in entries] == [
        ("token_revoke", bot_id, {"token_id": second["id"], "name": "alerts"}),
        ("token_create", bot_id, {"token_id": second["id"], "name": "alerts"}),
        ("token_create", bot_id, {"token_id": first["id"], "name": "default"}),
        ("bot_create", bot_id, None),
    ]
    assert all(e["actor"]["id"] == cast.site_admin.id for e in entries)
    text = str(entries)
    for token in (created["token"], second["token"], own["token"]):
        assert token not in text and token[4:20] not in text


async def test_deactivating_a_bot_revokes_its_tokens(cast: Cast) -> None:
    created = await make_bot(cast)
    path = f"/api/admin/users/{created['user']['id']}"
    assert (await cast.call("site_admin", "PATCH", path, {"is_active": False})).status_code == 200
    assert (await cast.call("site_admin", "GET", tokens_path(created))).json() == []
    assert (await cast.call("site_admin", "PATCH", path, {"is_active": True})).status_code == 200
    response = await cast.client.get("/api/users/me", headers=bearer(created["token"]))
    assert (response.status_code, response.json()) == (401, {"detail": "Token revoked"})
    fresh = (await cast.call("site_admin", "POST", tokens_path(created), {"name": "after"})).json()
    assert (await cast.client.get("/api/users/me", headers=bearer(fresh["token"]))).status_code == 200


async def test_a_bot_cannot_be_made_a_site_admin(cast: Cast) -> None:
    created = await make_bot(cast)
    path = f"/api/admin/users/{created['user']['id']}"
    response = await cast.call("site_admin", "PATCH", path, {"is_admin": True})
    assert (response.status_code, response.json()) == (409, {"detail": "A bot cannot be a site admin"})
    response = await cast.client.get("/api/admin/stats", headers=bearer(created["token"]))
    assert response.status_code == 403
    assert "admin_grant" not in [entry["action"] for entry in await audit(cast)]
    # Everything else an admin may change about a bot still works.
    assert (await cast.call("site_admin", "PATCH", path, {"is_admin": False})).status_code == 200
    assert (await cast.call("site_admin", "PATCH", path, {"is_active": False})).status_code == 200
