"""API tokens and announcements across two `hubbub serve` processes sharing PostgreSQL and
Redis: revoking a token through one worker refuses it on the other at once and closes its
connections on both; an announcement reaches every connection of both."""

from __future__ import annotations

import pytest

from tests.factories import signup
from tests.realtime.client import joined, multiplexed, refused, ws_path
from tests.realtime.test_multiworker import (  # noqa: F401 (fixtures)
    _make_admin,
    http_to,
    private_redis,
    setup_room,
    worker_env,
    workers,
)
from tests.servers import ServerProcess
from tests.tokens.support import as_account, bearer, make_token

pytestmark = pytest.mark.multiworker


async def test_revocation_and_announcements_reach_every_worker(
    workers: tuple[ServerProcess, ServerProcess],  # noqa: F811
) -> None:
    a, b = workers
    room_id, (ada, bob) = await setup_room(a, 2)
    async with http_to(a) as http_a, http_to(b) as http_b:
        root = await signup(http_a, "rootadmin")
        await _make_admin(a, root)
        created = await make_token(http_a, ada)
        token = as_account(ada, created["token"])
        assert (await http_b.get("/api/users/me", headers=bearer(created["token"]))).status_code == 200
        async with (
            multiplexed(b, token) as api_on_b,  # type: ignore[arg-type]
            joined(a, token, room_id) as api_on_a,  # type: ignore[arg-type]
            multiplexed(b, ada) as login_on_b,  # type: ignore[arg-type]
            joined(b, bob, room_id) as bob_on_b,  # type: ignore[arg-type]
        ):
            revoked = await http_a.delete(f"/api/me/tokens/{created['id']}", headers=ada.headers)
            assert revoked.status_code == 204
            # Refused on the other worker at once: no cache stands between it and the database.
            response = await http_b.get("/api/users/me", headers=bearer(created["token"]))
            assert (response.status_code, response.json()) == (401, {"detail": "Token revoked"})
            assert await api_on_b.closed() == (4401, "token_revoked")
            assert await api_on_a.closed() == (4401, "token_revoked")

            announced = await http_a.post(
                "/api/admin/announcements", json={"body": "maintenance at noon"}, headers=root.headers
            )
            assert announced.status_code == 202
            for client in (login_on_b, bob_on_b):
                frame = await client.recv_type("announcement")
                assert (frame["body"], frame["from"]["id"]) == ("maintenance at noon", root.id)
        assert await refused(b, ws_path(created["token"])) == (4401, "token_revoked")  # type: ignore[arg-type]
