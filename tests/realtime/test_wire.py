"""The startup check of the direct wire: it passes with the installed Uvicorn and websockets,
and a protocol that lost what the wire relies on sends every frame through ASGI instead,
with one warning, delivering all the same."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from api.config import Settings
from api.context import AppContext
from api.realtime.wire import AsgiWire, DirectWire
from api.realtime.wirecheck import direct_wire_works
from api.serving import ShutdownProtocol
from tests.factories import create_room, signup
from tests.realtime.client import joined
from tests.servers import serve_in_process


class IgnoresPushback(WebSocketsSansIOProtocol):
    """A full transport no longer clears `writable`."""

    def pause_writing(self) -> None:
        pass


class WithoutCloseSent(WebSocketsSansIOProtocol):
    """`close_sent` renamed."""

    def __getattribute__(self, name: str) -> Any:
        if name == "close_sent":
            raise AttributeError(name)
        return super().__getattribute__(name)


class HangsWhenLost(WebSocketsSansIOProtocol):
    """A connection lost while its transport pushed back never wakes a waiting write (as
    Uvicorn did before it set `writable` in `connection_lost`)."""

    def connection_lost(self, exc: Exception | None) -> None:
        writable, self.writable = self.writable, asyncio.Event()
        super().connection_lost(exc)  # sets a stand-in, not the event writes wait on
        self.writable = writable


async def test_the_installed_uvicorn_passes() -> None:
    assert await direct_wire_works() is True
    assert await direct_wire_works(ShutdownProtocol) is True


@pytest.mark.parametrize(
    ("protocol", "why"),
    [
        (IgnoresPushback, "ignored the transport's pushback"),
        (WithoutCloseSent, "AttributeError('close_sent')"),
        (HangsWhenLost, "a write waiting on a lost connection hangs"),
    ],
)
async def test_a_protocol_that_changed_fails_the_check_with_one_warning(
    protocol: type[WebSocketsSansIOProtocol], why: str, caplog: pytest.LogCaptureFixture
) -> None:
    assert await direct_wire_works(protocol) is False
    warnings = [record for record in caplog.records if record.levelname == "WARNING"]
    assert len(warnings) == 1
    assert why in warnings[0].getMessage()
    assert "every frame goes through ASGI" in warnings[0].getMessage()


def failing_check() -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await direct_wire_works(IgnoresPushback)

    return check


@pytest.mark.parametrize("direct", [True, False])
async def test_frames_flow_whichever_wire_the_check_chose(
    settings: Settings, direct: bool, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    if not direct:
        monkeypatch.setattr("api.context.direct_wire_works", failing_check())
    async with serve_in_process(settings) as server:
        assert server.app is not None
        context: AppContext = server.app.state.context
        assert context.hub.direct_wire is direct
        async with httpx.AsyncClient(base_url=server.http_url) as http:
            ada = await signup(http, "ada")
            room_id = (await create_room(http, ada))["id"]
            async with joined(server, ada, room_id) as client:
                [connection] = context.hub._connections
                assert isinstance(connection._wire, DirectWire if direct else AsgiWire)
                for index in range(20):
                    await client.say(f"m{index}", nonce=f"n{index}")
                received = await client.messages(20)
                assert [m["body"] for m in received] == [f"m{index}" for index in range(20)]
    warned = [r for r in caplog.records if "every frame goes through ASGI" in r.getMessage()]
    assert len(warned) == (0 if direct else 1)


async def test_an_open_connection_keeps_nothing_of_its_handshake(settings: Settings) -> None:
    """Uvicorn would keep the request, its response and the scope's headers for as long as the
    connection lives; the connection works the same without them."""
    async with serve_in_process(settings) as server, httpx.AsyncClient(base_url=server.http_url) as http:
        ada = await signup(http, "ada")
        room_id = (await create_room(http, ada))["id"]
        async with joined(server, ada, room_id, additional_headers={"X-Padding": "p" * 2000}) as client:
            assert server.app is not None
            context: AppContext = server.app.state.context
            (connection,) = context.hub._connections
            wire = connection._wire
            assert isinstance(wire, DirectWire)
            protocol = wire._protocol
            assert (protocol.request, protocol.response, protocol.scope["headers"]) == (None, None, [])
            await client.say("still works")
            assert (await client.recv_type("message"))["message"]["body"] == "still works"
