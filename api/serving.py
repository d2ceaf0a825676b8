"""Hubbub under Uvicorn: the WebSocket protocol it serves with, and a stop that exits 0.

Uvicorn's own stop runs before the app's: it closes every WebSocket with 1012 and an
empty reason, then runs the lifespan shutdown, by which time the hub has nobody left to
tell `server_restart`. `ShutdownProtocol` gives that close the reason clients are
promised. After a clean stop, Uvicorn raises the signal that asked for it once more, so
the process ends "killed by SIGTERM" (status −15), which a supervisor reads as a crash;
`GracefulServer` ends it with 0 instead.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

import uvicorn
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

from api.realtime.protocol import SERVER_RESTART

# What `hubbub serve` and the test servers pass as Uvicorn's `ws` option: an import string,
# so that it reaches every worker process.
WS_PROTOCOL = "api.serving:ShutdownProtocol"


class ShutdownProtocol(WebSocketsSansIOProtocol):
    """Uvicorn's `websockets-sansio` protocol, closing with `1012 server_restart` on shutdown."""

    def shutdown(self) -> None:
        if self.handshake_complete and not self.close_sent and self.conn.state is State.OPEN:
            # What Uvicorn's shutdown does for an open connection, with the reason.
            self.queue.put_nowait({"type": "websocket.disconnect", "code": SERVER_RESTART.code})
            self.conn.send_close(SERVER_RESTART.code, SERVER_RESTART.reason)
            self.transport.write(b"".join(self.conn.data_to_send()))
            self.close_sent = True
        # Now closed (or never accepted): Uvicorn closes the transport, or answers 500.
        super().shutdown()


class GracefulServer(uvicorn.Server):
    """Uvicorn's server; a stop that it completed, whatever signal asked for it, exits 0.

    A signal that arrives before Uvicorn listens for signals still kills the process as
    before, and one after a forced or failed stop is still raised again."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.stopped_cleanly = False

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        await super().shutdown(sockets)
        self.stopped_cleanly = not self.force_exit and not self.lifespan.should_exit

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            yield
            if self.stopped_cleanly:
                # The signals Uvicorn raises again once the handlers are restored.
                self._captured_signals.clear()
