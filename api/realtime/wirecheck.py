"""The startup check of the direct wire (api/realtime/wire.py).

`DirectWire` reads attributes Uvicorn's `websockets-sansio` protocol keeps for itself, so an
upgrade of Uvicorn or websockets could rename them or change what they mean. Each worker
checks at startup, once, on a real connection over a socket pair: the protocol is the one
the server's `send` belongs to, a frame written straight to its transport arrives whole,
the transport's pushback stops direct writes and its resumption lets a waiting write
through, a closing connection takes no more frames, and a lost one fails a waiting write
instead of hanging it. When anything of this does not hold, every frame goes through ASGI,
slower but correct, and one warning says why.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import uvicorn
from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

from api.realtime.wire import OutFrame, direct_wire_of

logger = logging.getLogger(__name__)

CHECK_TIMEOUT = 5.0
WRITE_TIMEOUT = 1.0  # a write that waits longer than this in the check hangs
PATH = "/hubbub-startup-check"


class WireCheckFailed(Exception):
    """The direct wire does not behave as it must with the installed Uvicorn and websockets."""


async def direct_wire_works(
    protocol_class: type[WebSocketsSansIOProtocol] = WebSocketsSansIOProtocol,
) -> bool:
    """Whether connections may write straight to their transport; warns once when not."""
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            await _check(protocol_class)
    except Exception as exc:  # whatever an upgrade broke, delivery must go on
        logger.warning(
            "frames cannot be written straight to Uvicorn's transport with the installed Uvicorn "
            "and websockets (%s); every frame goes through ASGI instead, which is slower",
            exc if isinstance(exc, WireCheckFailed) else repr(exc),
        )
        return False
    return True


async def _check(protocol_class: type[WebSocketsSansIOProtocol]) -> None:
    loop = asyncio.get_running_loop()
    served: asyncio.Future[None] = loop.create_future()
    lost = asyncio.Event()

    class Checked(protocol_class):  # type: ignore[valid-type,misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # Not a client's connection: no "accepted" and "connection open" lines in the log.
            quiet = logging.Logger(PATH)
            quiet.disabled = True
            self.logger = self.conn.logger = quiet

        def connection_lost(self, exc: Exception | None) -> None:
            super().connection_lost(exc)
            lost.set()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            await _serve(receive, send, lost)
        except Exception as exc:  # reported by the check; Uvicorn need not log it too
            served.set_exception(exc)
        else:
            served.set_result(None)

    config = uvicorn.Config(
        app,
        ws=protocol_class,
        lifespan="off",
        proxy_headers=False,
        log_config=None,
        ws_per_message_deflate=False,
    )
    config.load()
    server_side, client_side = socket.socketpair()
    client_side.setblocking(False)
    transport, _ = await loop.connect_accepted_socket(
        lambda: Checked(config=config, server_state=ServerState(), app_state={}), server_side
    )
    try:
        frames = await _client(client_side, served)
    finally:
        transport.abort()
        client_side.close()
        if served.done():
            served.exception()  # retrieved, whether or not the client got as far
    if frames != ["one", "two"]:
        raise WireCheckFailed(f"the client got {frames} instead of ['one', 'two']")


async def _serve(receive: Any, send: Any, lost: asyncio.Event) -> None:
    """The server side: the app of the check's one connection."""
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    wire = direct_wire_of(send)
    if wire is None:
        raise WireCheckFailed("the server's send is not a websockets-sansio protocol's")
    protocol: WebSocketsSansIOProtocol = send.__self__
    if not wire.try_write(OutFrame("one")):
        raise WireCheckFailed("an open connection refused a direct write")
    protocol.pause_writing()  # what the transport calls when its buffer is full
    if wire.try_write(OutFrame("not sent")):
        raise WireCheckFailed("a direct write ignored the transport's pushback")
    waiting = asyncio.ensure_future(wire.write(OutFrame("two")))
    await asyncio.sleep(0)
    if waiting.done():
        raise WireCheckFailed("a write did not wait for the transport")
    protocol.resume_writing()
    await asyncio.wait_for(waiting, WRITE_TIMEOUT)
    await send({"type": "websocket.close", "code": 1000})
    if wire.try_write(OutFrame("not sent")):
        raise WireCheckFailed("a closing connection took a direct write")
    # A client that stopped reading, then went away: its waiting write must fail, not hang.
    protocol.pause_writing()
    stuck = asyncio.ensure_future(wire.write(OutFrame("not sent")))
    await lost.wait()  # the client answered the close
    try:
        await asyncio.wait_for(stuck, WRITE_TIMEOUT)
    except ClientDisconnected:
        return
    except TimeoutError:
        raise WireCheckFailed("a write waiting on a lost connection hangs") from None
    raise WireCheckFailed("a write to a lost connection did not fail")


async def _client(sock: socket.socket, served: asyncio.Future[None]) -> list[str]:
    """The client side: handshake, read the text frames until the close, answer it."""
    loop = asyncio.get_running_loop()
    client = ClientProtocol(parse_uri(f"ws://hubbub.invalid{PATH}"))
    client.send_request(client.connect())
    texts: list[str] = []
    while True:
        for data in client.data_to_send():
            if data:
                await loop.sock_sendall(sock, data)
        if client.close_rcvd is not None:
            break
        data = await loop.sock_recv(sock, 65536)
        if not data:
            if served.done():
                served.result()  # the server side's failure, when that is what closed it
            raise WireCheckFailed("the server closed the connection early")
        client.receive_data(data)
        for event in client.events_received():
            if isinstance(event, Response) and event.status_code != 101:
                raise WireCheckFailed(f"the handshake was answered {event.status_code}")
            if isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                texts.append(bytes(event.data).decode())
    await served
    return texts
