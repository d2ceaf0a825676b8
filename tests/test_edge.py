"""The outermost middleware: security headers on every response, request ids, and WebSocket
scopes that keep the server's own send."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from api.config import Settings
from api.docs.router import ASSETS_PATH
from api.edge import WEB_CLIENT_POLICY
from api.main import FRONTEND_DIR, create_app
from api.realtime import hub
from api.realtime.wire import DirectWire, Wire
from tests.factories import create_room, signup
from tests.realtime.client import joined
from tests.servers import LiveServer

GENERATED_ID = re.compile(r"[0-9a-f]{16}")


@pytest.fixture
async def failing_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """An app with a route that fails as a bug would: a 500 from Starlette's error handler."""
    application = create_app(settings)

    async def broken() -> None:
        raise RuntimeError("a bug")

    application.add_api_route("/api/broken", broken, methods=["GET"])
    routes = application.router.routes
    routes.insert(0, routes.pop())  # ahead of the web client's catch-all mount
    async with application.router.lifespan_context(application):
        yield application


def assert_secured(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff", response.request.url
    assert response.headers["referrer-policy"] == "no-referrer", response.request.url
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"], response.request.url
    assert len(response.headers.get_list("content-security-policy")) == 1


async def test_every_kind_of_response_is_secured(client: httpx.AsyncClient) -> None:
    for path, status in [
        ("/", 200),
        ("/js/main.js", 200),
        ("/healthz", 200),
        ("/metrics", 200),
        ("/openapi.json", 200),
        ("/api/users/me", 401),
        ("/api/rooms/abc/messages?limit=0", 401),
        ("/no/such/page", 404),
        ("/docs", 200),
        ("/redoc", 200),
        ("/docs/oauth2-redirect", 200),
        (f"{ASSETS_PATH}/swagger-ui-bundle.js", 200),
    ]:
        response = await client.get(path)
        assert response.status_code == status, path
        assert_secured(response)
    invalid = await client.post("/api/auth/signup", json={"username": 1})
    assert invalid.status_code == 422
    assert_secured(invalid)
    wrong_method = await client.put("/healthz")
    assert wrong_method.status_code == 405
    assert_secured(wrong_method)


async def test_a_server_error_is_secured_too(failing_app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=failing_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://hubbub.test") as http:
        response = await http.get("/api/broken", headers={"X-Request-ID": "bug-1"})
    assert response.status_code == 500
    assert_secured(response)
    assert response.headers["x-request-id"] == "bug-1"


async def test_the_web_client_policy_is_the_one_its_page_declares(client: httpx.AsyncClient) -> None:
    """The header carries what a meta tag cannot (frame-ancestors); the two must not drift."""
    page = (FRONTEND_DIR / "index.html").read_text()
    [meta] = re.findall(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    header = (await client.get("/")).headers["content-security-policy"]
    assert header == WEB_CLIENT_POLICY
    assert _directives(header) == _directives(meta) | {"frame-ancestors 'none'"}


def _directives(policy: str) -> set[str]:
    return {directive.strip() for directive in policy.split(";") if directive.strip()}


async def test_the_docs_pages_have_their_own_policy(client: httpx.AsyncClient) -> None:
    for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
        policy = (await client.get(path)).headers["content-security-policy"]
        assert policy != WEB_CLIENT_POLICY
        assert "default-src 'none'" in policy
        script = next(d for d in policy.split("; ") if d.startswith("script-src "))
        assert "unsafe" not in script  # only its own scripts run
        assert "http" not in policy  # no other origin


async def test_a_sane_request_id_comes_back(client: httpx.AsyncClient) -> None:
    for request_id in ["abc-123", "0f8fad5b-d9cb-469f-a165-70867728950e", "a" * 128, "trace:1/2+3=.x_y"]:
        response = await client.get("/healthz", headers={"X-Request-ID": request_id})
        assert response.headers["x-request-id"] == request_id


async def test_an_unsafe_request_id_is_replaced(client: httpx.AsyncClient) -> None:
    for request_id in ["a" * 129, "", "two words", "new\\nline", "<script>", "é", "a;b", "%0d%0a"]:
        response = await client.get("/healthz", headers={"X-Request-ID": request_id.encode("utf-8")})
        assert GENERATED_ID.fullmatch(response.headers["x-request-id"]), request_id


async def test_without_one_each_request_gets_its_own(client: httpx.AsyncClient) -> None:
    ids = {(await client.get("/healthz")).headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5
    assert all(GENERATED_ID.fullmatch(request_id) for request_id in ids)


async def test_websocket_connections_still_write_straight_to_the_transport(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    chosen: list[Wire] = []
    original = hub.wire_for

    def spy(websocket: object, *, direct: bool) -> Wire:
        wire = original(websocket, direct=direct)  # type: ignore[arg-type]
        chosen.append(wire)
        return wire

    monkeypatch.setattr(hub, "wire_for", spy)
    async with httpx.AsyncClient(base_url=live_server.http_url) as http:
        ada = await signup(http, "ada")
        room = await create_room(http, ada)
        async with joined(live_server, ada, room["id"]):
            pass
    assert [type(wire) for wire in chosen] == [DirectWire]
