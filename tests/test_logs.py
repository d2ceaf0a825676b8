"""Logs: readable text by default, one JSON object per line with LOG_FORMAT=json, request ids
and user ids on each line, and never a token or a password."""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from api import logs
from api.logs import JsonFormatter, RequestContext, TextFormatter
from tests.factories import PASSWORD, create_room, signup
from tests.servers import ServerProcess


def record(message: str, *args: object, name: str = "hubbub.test", exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("while reading /ws?token=secret.jwt.value")
        except ValueError:
            exc_info = sys.exc_info()
    made = logging.LogRecord(name, logging.WARNING, __file__, 1, message, args, exc_info)
    RequestContext().filter(made)
    return made


def test_a_json_line_has_the_fields_and_the_request_context() -> None:
    request, user = logs.request_id.set("req-1"), logs.user_id.set(42)
    try:
        line = JsonFormatter().format(record("joined %s", "room 5", exc=True))
    finally:
        logs.request_id.reset(request)
        logs.user_id.reset(user)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "hubbub.test"
    assert entry["message"] == "joined room 5"
    assert (entry["request_id"], entry["user_id"]) == ("req-1", 42)
    assert entry["time"].endswith("+00:00")
    assert "ValueError" in entry["exception"]
    assert "secret.jwt.value" not in line


def test_outside_a_request_there_is_no_request_context() -> None:
    entry = json.loads(JsonFormatter().format(record("started")))
    assert "request_id" not in entry and "user_id" not in entry
    assert TextFormatter().format(record("started")).endswith("WARNING hubbub.test: started")


def test_a_text_line_names_the_request_and_user() -> None:
    request, user = logs.request_id.set("req-2"), logs.user_id.set(7)
    try:
        line = TextFormatter().format(record("GET /ws/rooms/1?token=%s", "abc.def.ghi"))
    finally:
        logs.request_id.reset(request)
        logs.user_id.reset(user)
    assert "[request=req-2 user=7]" in line
    assert "abc.def.ghi" not in line and "token=[redacted]" in line


def test_access_lines_have_fields_of_their_own() -> None:
    access = record(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET", "/api/rooms", "1.1", 200, name="uvicorn.access"
    )
    entry = json.loads(JsonFormatter().format(access))
    assert (entry["method"], entry["path"], entry["status"], entry["client"]) == (
        "GET",
        "/api/rooms",
        200,
        "127.0.0.1:5",
    )


@pytest.fixture
def json_server(tmp_path: Path) -> ServerProcess:
    log = tmp_path / "server.log"
    server = ServerProcess(
        {
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'logs.db'}",
            "DATA_DIR": str(tmp_path / "var"),
            "SECRET_KEY": "log-test-" + "s" * 40,
            "PASSWORD_MEMORY_KIB": "64",
            "PASSWORD_TIME_COST": "1",
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "INFO",
            "BROKER_URL": "memory://",
        },
        log=log,
    )
    server.start()
    return server


async def test_hubbub_serve_writes_json_lines_without_credentials(json_server: ServerProcess) -> None:
    try:
        async with httpx.AsyncClient(base_url=json_server.http_url, timeout=10) as http:
            ada = await signup(http, "ada")
            room = await create_room(http, ada)
            me = await http.get("/api/users/me", headers={**ada.headers, "X-Request-ID": "trace-42"})
            assert me.headers["x-request-id"] == "trace-42"
            await http.post("/api/auth/login", data={"username": "ada", "password": "wrong password!"})
        url = json_server.ws_url(f"/ws/rooms/{room['id']}?token={ada.token}")
        async with connect(url) as websocket:
            await websocket.recv()
        with contextlib.suppress(InvalidStatus, ConnectionClosed):  # refused, however it is refused
            async with connect(json_server.ws_url(f"/ws/rooms/{room['id']}?token=forged.token.x")) as refused:
                await refused.recv()
    finally:
        json_server.stop()
    assert json_server.log is not None
    text = json_server.log.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert lines, "the server wrote no log"
    for entry in lines:
        assert {"time", "level", "logger", "message"} <= set(entry)
    [me_line] = [e for e in lines if e.get("request_id") == "trace-42"]
    assert (me_line["logger"], me_line["path"], me_line["status"]) == ("uvicorn.access", "/api/users/me", 200)
    assert me_line["user_id"] == ada.id
    assert any("/ws/rooms/" in e["message"] and "token=[redacted]" in e["message"] for e in lines)
    for secret in (ada.token, ada.refresh_token, PASSWORD, "wrong password!", "forged.token.x"):
        assert secret not in text
