"""PATCH /api/users/me and PUT /api/users/me/password: one's own name and password."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import PASSWORD, create_room, join, login, send, signup
from tests.realtime.client import joined
from tests.servers import LiveServer

NEW_PASSWORD = "a much better passphrase"


async def rename(client: httpx.AsyncClient, headers: dict[str, str], body: object) -> httpx.Response:
    return await client.patch("/api/users/me", json=body, headers=headers)


async def change(
    client: httpx.AsyncClient, headers: dict[str, str], current: str, new: str
) -> httpx.Response:
    return await client.put(
        "/api/users/me/password",
        json={"current_password": current, "new_password": new},
        headers=headers,
    )


# --- display name -----------------------------------------------------------------------


async def test_a_new_display_name_is_what_rooms_show_from_then_on(client: httpx.AsyncClient) -> None:
    ada = await signup(client, "ada")
    room_id = (await create_room(client, ada))["id"]
    await send(client, ada, room_id, "before the change")

    response = await rename(client, ada.headers, {"display_name": "  Ada Lovelace  "})
    assert response.status_code == 200
    user = response.json()
    assert user["display_name"] == "Ada Lovelace"  # stripped, as at signup
    assert set(user) == {"id", "username", "display_name", "is_admin", "is_bot", "created_at"}
    assert user["username"] == "ada"

    me = await client.get("/api/users/me", headers=ada.headers)
    assert me.json()["display_name"] == "Ada Lovelace"
    members = (await client.get(f"/api/rooms/{room_id}/members", headers=ada.headers)).json()
    assert members[0]["user"]["display_name"] == "Ada Lovelace"
    after = await send(client, ada, room_id, "after the change")
    assert after["author"]["display_name"] == "Ada Lovelace"
    history = (await client.get(f"/api/rooms/{room_id}/messages", headers=ada.headers)).json()
    assert [m["author"]["display_name"] for m in history["messages"]] == ["Ada Lovelace"] * 2


async def test_markup_in_a_display_name_is_kept_as_text(client: httpx.AsyncClient) -> None:
    ada = await signup(client, "ada")
    for name in ["<img src=x onerror=alert(1)>", "'; DROP TABLE users; --", "עברית 中文 😀"]:
        response = await rename(client, ada.headers, {"display_name": name})
        assert response.status_code == 200, response.text
        assert response.json()["display_name"] == name


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"display_name": ""},
        {"display_name": "   "},
        {"display_name": "x" * 65},
        {"display_name": "line\nbreak"},
        {"display_name": "nul\x00"},
        {"display_name": "bell\x07"},
        {"display_name": None},
        {"display_name": 5},
        {"display_name": ["Ada"]},
        ["Ada"],
        "Ada",
    ],
)
async def test_invalid_display_names_get_422(client: httpx.AsyncClient, body: object) -> None:
    ada = await signup(client, "ada")
    response = await rename(client, ada.headers, body)
    assert response.status_code == 422, response.text
    assert (await client.get("/api/users/me", headers=ada.headers)).json()["display_name"] == "ada"


async def test_a_lone_surrogate_or_broken_json_gets_422(client: httpx.AsyncClient) -> None:
    ada = await signup(client, "ada")
    headers = {**ada.headers, "Content-Type": "application/json"}
    for raw in [b'{"display_name": "\\ud800"}', b'{"display_name": ', b"\xff\xfe", b'{"display_name": NaN}']:
        response = await client.patch("/api/users/me", content=raw, headers=headers)
        assert response.status_code == 422, (raw, response.text)


async def test_renaming_needs_a_token(client: httpx.AsyncClient) -> None:
    for headers in [{}, {"Authorization": "Bearer nonsense"}]:
        response = await rename(client, headers, {"display_name": "Ada"})
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_open_rooms_hear_of_a_new_name(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.http_url) as http:
        ada, bob = await signup(http, "ada"), await signup(http, "bob")
        first = (await create_room(http, ada))["id"]
        second = (await create_room(http, ada))["id"]
        await join(http, bob, first)
        async with joined(live_server, bob, first) as b1, joined(live_server, ada, second) as a2:
            await rename(http, bob.headers, {"display_name": "Bob the Builder"})
            frame = await b1.recv_type("membership")
            assert frame == {
                "type": "membership",
                "event": "renamed",
                "room_id": first,
                "user": {"id": bob.id, "username": "bob", "display_name": "Bob the Builder"},
                "role": "member",
            }
            # Ada's rename reaches her rooms only: her second room, and the first.
            await rename(http, ada.headers, {"display_name": "Ada"})
            renamed = await a2.recv_type("membership")
            assert (renamed["event"], renamed["user"]["id"], renamed["role"]) == ("renamed", ada.id, "owner")
            assert (await b1.recv_type("membership"))["user"]["display_name"] == "Ada"


# --- password ---------------------------------------------------------------------------


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/api/auth/refresh", json={"refresh_token": token})


async def test_changing_the_password_revokes_every_refresh_token(client: httpx.AsyncClient) -> None:
    ada = await signup(client, "ada")
    other_device = await login(client, "ada")
    response = await change(client, ada.headers, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 204
    assert response.content == b""

    assert (await refresh(client, ada.refresh_token)).status_code == 401
    assert (await refresh(client, other_device.refresh_token)).status_code == 401
    old = await client.post("/api/auth/login", data={"username": "ada", "password": PASSWORD})
    assert old.status_code == 401
    fresh = await login(client, "ada", NEW_PASSWORD)
    assert (await refresh(client, fresh.refresh_token)).status_code == 200


async def test_a_wrong_current_password_is_403_and_changes_nothing(client: httpx.AsyncClient) -> None:
    ada = await signup(client, "ada")
    # Four, as the fifth failure would throttle.
    for wrong in ["not the password", "x" * 129, "x" * 4096, PASSWORD.upper()]:
        response = await change(client, ada.headers, wrong, NEW_PASSWORD)
        assert response.status_code == 403, (wrong[:20], response.text)
        assert response.json()["detail"] == "The current password is not correct"
    assert (await refresh(client, ada.refresh_token)).status_code == 200
    await login(client, "ada", PASSWORD)


async def test_wrong_current_passwords_are_throttled_with_logins(client: httpx.AsyncClient) -> None:
    ada = await signup(client, "ada")
    for _ in range(5):
        assert (await change(client, ada.headers, "wrong password", NEW_PASSWORD)).status_code == 403
    blocked = await change(client, ada.headers, PASSWORD, NEW_PASSWORD)
    assert blocked.status_code == 429
    assert 895 <= int(blocked.headers["Retry-After"]) <= 900
    # The same count as logins of the username: those wait too, and the password stays.
    login_attempt = await client.post("/api/auth/login", data={"username": "ada", "password": PASSWORD})
    assert login_attempt.status_code == 429
    assert (await refresh(client, ada.refresh_token)).status_code == 200


async def test_failed_logins_count_toward_the_password_throttle(client: httpx.AsyncClient) -> None:
    ada = await signup(client, "ada")
    for _ in range(4):
        await client.post("/api/auth/login", data={"username": "ADA", "password": "wrong password"})
    assert (await change(client, ada.headers, "wrong again", NEW_PASSWORD)).status_code == 403
    assert (await change(client, ada.headers, PASSWORD, NEW_PASSWORD)).status_code == 429


async def test_a_right_password_clears_earlier_failures(client: httpx.AsyncClient) -> None:
    ada = await signup(client, "ada")
    for _ in range(4):
        assert (await change(client, ada.headers, "wrong password", NEW_PASSWORD)).status_code == 403
    assert (await change(client, ada.headers, PASSWORD, NEW_PASSWORD)).status_code == 204
    for _ in range(4):
        assert (await change(client, ada.headers, "wrong password", PASSWORD)).status_code == 403
    assert (await change(client, ada.headers, NEW_PASSWORD, PASSWORD)).status_code == 204


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"current_password": PASSWORD},
        {"new_password": NEW_PASSWORD},
        {"current_password": PASSWORD, "new_password": "short"},
        {"current_password": PASSWORD, "new_password": "x" * 129},
        {"current_password": "", "new_password": NEW_PASSWORD},
        {"current_password": "x" * 4097, "new_password": NEW_PASSWORD},
        {"current_password": None, "new_password": NEW_PASSWORD},
        {"current_password": PASSWORD, "new_password": 12345678},
        {"current_password": PASSWORD, "new_password": ["a", "b"]},
        [PASSWORD, NEW_PASSWORD],
    ],
)
async def test_invalid_password_changes_get_422(client: httpx.AsyncClient, body: Any) -> None:
    ada = await signup(client, "ada")
    response = await client.put("/api/users/me/password", json=body, headers=ada.headers)
    assert response.status_code == 422, response.text
    assert (await refresh(client, ada.refresh_token)).status_code == 200


async def test_hostile_new_passwords_work_as_passwords(client: httpx.AsyncClient) -> None:
    ada = await signup(client, "ada")
    current = PASSWORD
    for new in ["' OR '1'='1' --", "<script>x</script>", "пароль-密码-🔑🔑", "\x00\x01 control chars ok"]:
        assert (await change(client, ada.headers, current, new)).status_code == 204
        await login(client, "ada", new)
        current = new


async def test_changing_the_password_needs_a_token(client: httpx.AsyncClient) -> None:
    response = await change(client, {}, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
