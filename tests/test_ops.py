"""Operations: health, readiness, metrics, the schema check, the web client at /."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from api.context import AppContext
from api.main import create_app
from api.migrate import SchemaOutOfDate, upgrade
from tests.conftest import make_settings


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert (response.status_code, response.json()["status"]) == (200, "ok")


async def test_readyz_when_all_is_well(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


async def test_readyz_reports_an_unreachable_database(client: httpx.AsyncClient, app: FastAPI) -> None:
    context: AppContext = app.state.context
    original = context.db.ping

    async def unreachable() -> None:
        raise ConnectionRefusedError("connection refused")

    context.db.ping = unreachable  # type: ignore[method-assign]
    try:
        response = await client.get("/readyz")
    finally:
        context.db.ping = original  # type: ignore[method-assign]
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable: ConnectionRefusedError"


async def test_metrics_are_prometheus_text(client: httpx.AsyncClient) -> None:
    response = await client.get("/metrics")
    assert response.status_code == 200
    for name in ("hubbub_connections", "hubbub_frames_sent_total", "hubbub_queue_overflows_total",
                 "hubbub_broadcast_latency_seconds_bucket", "hubbub_messages_stored_total",
                 "hubbub_broker_reconnects_total"):  # fmt: skip
        assert name in response.text


async def test_the_web_client_is_served_at_the_root(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]


async def test_the_docs_page_and_schema(client: httpx.AsyncClient) -> None:
    assert (await client.get("/docs")).status_code == 200
    schema = (await client.get("/openapi.json")).json()
    assert schema["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]["password"][
        "tokenUrl"
    ] == ("/api/auth/login")
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), (method, path)
            assert operation.get("tags"), (method, path)


def test_a_database_behind_the_code_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "base")  # an empty database: no tables, no revision
    app = create_app(make_settings(url, tmp_path))

    async def start() -> None:
        async with app.router.lifespan_context(app):
            pass

    with pytest.raises(SchemaOutOfDate, match="hubbub migrate"):
        asyncio.run(start())


async def test_the_web_client_is_revalidated_on_every_load(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.headers["cache-control"] == "no-cache"


def test_tokens_never_reach_the_server_log(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from api.logs import redact_tokens_in_server_logs

    redact_tokens_in_server_logs()
    logger = logging.getLogger("uvicorn.error")
    with caplog.at_level(logging.INFO, logger="uvicorn.error"):
        logger.info(
            '%s - "WebSocket %s" [accepted]', "127.0.0.1:5", "/ws/rooms/1?token=eyJhbGc.secret.sig&since=8"
        )
    assert "eyJhbGc" not in caplog.text
    assert "/ws/rooms/1?token=[redacted]&since=8" in caplog.text
