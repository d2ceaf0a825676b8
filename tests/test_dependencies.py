"""No request leaves the event loop for FastAPI's thread pool: every dependency and route is
`async def`. A plain `def` one would be run in a worker thread on each request, a hop that
costs every request (and, under load, the messages the loop relays) a thread switch and a
wait for the GIL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import fastapi.dependencies.utils
import fastapi.routing
import httpx
import pytest

from tests.factories import create_room, signup


@pytest.fixture
def thread_hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    hops: list[str] = []

    async def refuse(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        hops.append(getattr(func, "__qualname__", repr(func)))
        return func(*args, **kwargs)

    monkeypatch.setattr(fastapi.dependencies.utils, "run_in_threadpool", refuse)
    monkeypatch.setattr(fastapi.routing, "run_in_threadpool", refuse)
    return hops


async def test_a_tour_of_the_api_never_hops_to_a_thread(
    client: httpx.AsyncClient, thread_hops: list[str]
) -> None:
    ada = await signup(client)  # signup, then the login form
    grace = await signup(client)
    room = await create_room(client, ada)
    path = f"/api/rooms/{room['id']}"
    calls = [
        ("GET", "/api/auth/config", None, ada),
        ("GET", "/api/users/me", None, ada),
        ("GET", "/api/users/me/sessions", None, ada),
        ("PATCH", "/api/users/me", {"display_name": "Ada"}, ada),
        ("GET", path, None, ada),  # a visible room
        ("POST", f"{path}/join", None, grace),
        ("GET", f"{path}/members", None, ada),  # readable
        ("PATCH", path, {"description": "plans"}, ada),  # managed
        ("POST", f"{path}/messages", {"body": "hello @" + grace.username}, ada),  # member
        ("GET", f"{path}/messages", None, grace),
        ("PUT", f"{path}/read", {"seq": 1}, grace),
        ("GET", "/api/me/rooms", None, grace),
        ("GET", "/api/me/mentions", None, grace),
        ("GET", "/api/search?q=hello", None, grace),
        ("POST", "/api/me/tokens", {"name": "script"}, ada),
        ("POST", "/api/auth/refresh", {"refresh_token": ada.refresh_token}, None),
    ]
    for method, url, body, caller in calls:
        headers = caller.headers if caller else {}
        response = await client.request(method, url, json=body, headers=headers)
        assert response.status_code < 400, (method, url, response.text)
    # A refused request goes through the same dependencies up to where it is refused.
    refused = await client.get(f"{path}/members", headers={"Authorization": "Bearer nonsense"})
    assert refused.status_code == 401
    assert thread_hops == []
