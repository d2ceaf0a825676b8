"""Accounts across two `hubbub serve` processes sharing PostgreSQL and Redis: a logout-all
through one worker closes the user's connections on the other and refuses the old token
there; the throttles per address count both workers' events."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD, login, signup
from tests.realtime.client import joined, refused, room_path
from tests.realtime.test_multiworker import (  # noqa: F401 (fixtures)
    http_to,
    private_redis,
    setup_room,
    worker_env,
    workers,
)
from tests.servers import ServerProcess

pytestmark = pytest.mark.multiworker


@pytest.fixture
def worker_env_limits(worker_env: dict[str, str]) -> dict[str, str]:  # noqa: F811
    """Low limits for the workers: tests ask for this before `workers`, which reads the env."""
    worker_env.update(
        {"SIGNUP_PER_HOUR": "3", "LOGIN_FAILURES_PER_ADDRESS": "3", "LOGIN_MAX_FAILURES": "100"}
    )
    return worker_env


async def test_logout_all_reaches_every_worker(
    worker_env_limits: dict[str, str],
    workers: tuple[ServerProcess, ServerProcess],  # noqa: F811
) -> None:
    a, b = workers
    room_id, (ada, bob) = await setup_room(a, 2)
    async with (
        joined(b, ada, room_id) as ada_on_b,  # type: ignore[arg-type]
        joined(a, ada, room_id) as ada_on_a,  # type: ignore[arg-type]
        joined(b, bob, room_id) as bob_on_b,  # type: ignore[arg-type]
        http_to(a) as http_a,
        http_to(b) as http_b,
    ):
        assert (await http_a.post("/api/auth/logout-all", headers=ada.headers)).status_code == 204
        assert await ada_on_b.closed() == (4401, "token_revoked")
        assert await ada_on_a.closed() == (4401, "token_revoked")
        assert (await http_b.get("/api/users/me", headers=ada.headers)).status_code == 401
        refreshed = await http_b.post("/api/auth/refresh", json={"refresh_token": ada.refresh_token})
        assert refreshed.status_code == 401
        await bob_on_b.send({"type": "ping"})
        assert await bob_on_b.recv_type("pong") == {"type": "pong"}
    assert await refused(b, room_path(room_id, ada.token)) == (4401, "token_revoked")  # type: ignore[arg-type]
    async with http_to(b) as http_b:
        fresh = await login(http_b, ada.username, PASSWORD)
        assert (await http_b.get("/api/users/me", headers=fresh.headers)).status_code == 200


async def test_the_address_throttles_count_both_workers(
    worker_env_limits: dict[str, str],
    workers: tuple[ServerProcess, ServerProcess],  # noqa: F811
) -> None:
    a, b = workers
    async with http_to(a) as http_a, http_to(b) as http_b:
        # setup_room signed nobody up here: three signups from 127.0.0.1, over both workers.
        await signup(http_a, "one")
        await signup(http_b, "two")
        await signup(http_a, "three")
        for http in (http_a, http_b):
            blocked = await http.post("/api/auth/signup", json={"username": "four", "password": PASSWORD})
            assert blocked.status_code == 429
            assert int(blocked.headers["Retry-After"]) > 3500
        # `hubbub serve` believes the X-Forwarded-For of 127.0.0.1 (a trusted proxy by default).
        behind = {"X-Forwarded-For": "198.51.100.77"}
        for index, http in enumerate((http_a, http_b)):
            response = await http.post(
                "/api/auth/signup",
                json={"username": f"behind{index}", "password": PASSWORD},
                headers=behind,
            )
            assert response.status_code == 201, response.text
        for http, name in ((http_a, "one"), (http_b, "two"), (http_a, "three")):
            response = await http.post(
                "/api/auth/login", data={"username": name, "password": "wrong password"}
            )
            assert response.status_code == 401
        for http in (http_a, http_b):
            response = await http.post("/api/auth/login", data={"username": "one", "password": PASSWORD})
            assert response.status_code == 429
