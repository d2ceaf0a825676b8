"""How frames reach a client's socket.

Through ASGI, every frame of every connection costs a wake-up of a sender task,
four layers of `send` wrappers, and a fresh WebSocket encoding of the same text.
Fan-out to a thousand connections is then mostly overhead. So when Hubbub runs
under Uvicorn's `websockets-sansio` protocol (what `hubbub serve` uses), frames
are encoded once per message and written straight to each connection's transport
while it can take them, as `websockets.broadcast()` does. A connection whose
transport pushes back (its buffer is past the high-water mark) gets a queue and
a task that waits for it, so a slow client never costs the others anything.

Under any other server, or when the startup check finds that an upgrade of Uvicorn or
websockets changed what this relies on, `AsgiWire` sends through ASGI as usual.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from starlette.websockets import WebSocket
from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame, Opcode
from websockets.protocol import State

# The server's own `send`, kept in WebSocket scopes by the outermost middleware (api/edge.py).
SERVER_SEND = "hubbub.server_send"


class OutFrame:
    """A text frame, encoded for the wire at most once however many connections get it."""

    __slots__ = ("_wire", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._wire: bytes | None = None

    @property
    def wire(self) -> bytes:
        if self._wire is None:
            # Server frames are never masked and Hubbub negotiates no compression, so
            # these bytes are the same for every client.
            self._wire = Frame(Opcode.TEXT, self.text.encode()).serialize(mask=False)
        return self._wire


class Wire(Protocol):
    def try_write(self, frame: OutFrame) -> bool:
        """Write now if the client can take it; False when the frame must wait."""

    async def write(self, frame: OutFrame) -> None:
        """Write once the client can take it."""

    def abort(self) -> None:
        """Drop the connection without a closing handshake (a client that stopped reading)."""


class DirectWire:
    __slots__ = ("_protocol",)

    def __init__(self, protocol: WebSocketsSansIOProtocol) -> None:
        self._protocol = protocol

    def try_write(self, frame: OutFrame) -> bool:
        protocol = self._protocol
        if (
            protocol.writable.is_set()
            and not protocol.close_sent
            and protocol.conn.state is State.OPEN
            and not protocol.transport.is_closing()
        ):
            protocol.transport.write(frame.wire)
            return True
        return False

    async def write(self, frame: OutFrame) -> None:
        await self._protocol.writable.wait()
        if self._protocol.disconnected or not self.try_write(frame):
            raise ClientDisconnected

    def abort(self) -> None:
        self._protocol.transport.abort()


class AsgiWire:
    __slots__ = ("_task", "_websocket")

    def __init__(self, websocket: WebSocket) -> None:
        self._websocket = websocket
        self._task = asyncio.current_task()

    def try_write(self, frame: OutFrame) -> bool:
        return False

    async def write(self, frame: OutFrame) -> None:
        await self._websocket.send_text(frame.text)

    def abort(self) -> None:
        # ASGI has no way to drop a connection: end the session's task instead.
        if self._task is not None:
            self._task.cancel()


def wire_for(websocket: WebSocket, *, direct: bool) -> Wire:
    """The fastest wire this connection allows; call from the session's own task. `direct`:
    whether the startup check (api/realtime/wirecheck.py) found the direct wire sound."""
    if direct:
        wire = direct_wire_of(websocket.scope.get(SERVER_SEND))
        if wire is not None:
            return wire
    return AsgiWire(websocket)


def direct_wire_of(send: Any) -> DirectWire | None:
    """A direct wire to the connection of the server's `send`, when it is Uvicorn's
    websockets-sansio protocol and writes frames as they are (no compression)."""
    protocol = getattr(send, "__self__", None)
    if isinstance(protocol, WebSocketsSansIOProtocol) and not protocol.conn.extensions:
        return DirectWire(protocol)
    return None


def release_handshake(websocket: WebSocket) -> None:
    """Once the connection is open, let go of what only its handshake needed: Uvicorn keeps
    the request and its response (headers and all) for the connection's whole life, and the
    scope its headers. At thousands of idle connections that is a good part of their memory."""
    protocol = getattr(websocket.scope.get(SERVER_SEND), "__self__", None)
    if isinstance(protocol, WebSocketsSansIOProtocol) and protocol.handshake_complete:
        protocol.request = None  # type: ignore[assignment]
        protocol.response = None  # type: ignore[assignment]
    headers = websocket.scope.get("headers")
    if isinstance(headers, list):
        headers.clear()  # admission (the token is a query parameter) was their last reader
