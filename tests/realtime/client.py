"""A small WebSocket test client over a real socket."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.factories import Account, create_room, join, signup
from tests.servers import LiveServer

Frame = dict[str, Any]


class Client:
    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.history: Frame | None = None
        self.presence: Frame | None = None

    async def recv(self, timeout: float = 5) -> Frame:
        frame: Frame = json.loads(await asyncio.wait_for(self.connection.recv(), timeout))
        return frame

    async def recv_type(self, kind: str, timeout: float = 5) -> Frame:
        """The next frame of type `kind`, skipping others."""
        async with asyncio.timeout(timeout):
            while True:
                frame = await self.recv(timeout)
                if frame["type"] == kind:
                    return frame

    async def send(self, frame: Frame | str) -> None:
        await self.connection.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def say(self, body: str, nonce: str | None = None) -> None:
        frame: Frame = {"type": "message", "body": body}
        if nonce is not None:
            frame["nonce"] = nonce
        await self.send(frame)

    async def messages(self, count: int, timeout: float = 10) -> list[Frame]:
        """The next `count` message payloads, skipping other frames."""
        found: list[Frame] = []
        async with asyncio.timeout(timeout):
            while len(found) < count:
                frame = await self.recv(timeout)
                if frame["type"] == "message":
                    found.append(frame["message"])
        return found

    async def closed(self, timeout: float = 5) -> tuple[int | None, str | None]:
        """Read until the server closes; its close code and reason."""
        with contextlib.suppress(ConnectionClosed):
            async with asyncio.timeout(timeout):
                while True:
                    await self.connection.recv()
        return self.connection.close_code, self.connection.close_reason

    async def subscribe(self, room_id: int, **position: int) -> tuple[Frame, Frame]:
        """Subscribe (on /ws) to one room; its history and presence frames."""
        await self.send({"type": "subscribe", "room_id": room_id, **position})
        history = await self.recv_type("history")
        assert history["room_id"] == room_id, history
        presence = await self.recv()
        assert presence["type"] == "presence" and presence["room_id"] == room_id, presence
        return history, presence

    async def expect_silence(self, seconds: float = 0.3) -> None:
        with contextlib.suppress(TimeoutError):
            frame = await asyncio.wait_for(self.connection.recv(), seconds)
            raise AssertionError(f"unexpected frame {frame}")


def ws_path(token: str | None) -> str:
    return "/ws" if token is None else f"/ws?token={token}"


@contextlib.asynccontextmanager
async def multiplexed(server: LiveServer, account: Account, **options: Any) -> AsyncIterator[Client]:
    """Connected to /ws and past the `ready` frame."""
    async with connect(server.ws_url(ws_path(account.token)), **options) as connection:
        client = Client(connection)
        ready = await client.recv()
        assert ready["type"] == "ready", ready
        client.history = ready
        yield client


def room_path(
    room_id: int | str, token: str | None, since: int | str | None = None, since_rev: int | str | None = None
) -> str:
    query = []
    if token is not None:
        query.append(f"token={token}")
    if since is not None:
        query.append(f"since={since}")
    if since_rev is not None:
        query.append(f"since_rev={since_rev}")
    return f"/ws/rooms/{room_id}" + ("?" + "&".join(query) if query else "")


@contextlib.asynccontextmanager
async def joined(
    server: LiveServer,
    account: Account,
    room_id: int,
    *,
    since: int | None = None,
    since_rev: int | None = None,
    **options: Any,
) -> AsyncIterator[Client]:
    """Connected and past the history and presence frames."""
    async with connect(
        server.ws_url(room_path(room_id, account.token, since, since_rev)), **options
    ) as connection:
        client = Client(connection)
        client.history = await client.recv()
        assert client.history["type"] == "history", client.history
        client.presence = await client.recv()
        assert client.presence["type"] == "presence", client.presence
        yield client


async def refused(server: LiveServer, path: str) -> tuple[int | None, str | None]:
    """Connect to `path` and return the close code and reason of the refusal."""
    async with connect(server.ws_url(path)) as connection:
        return await Client(connection).closed()


async def pair_in_room(http: httpx.AsyncClient) -> tuple[Account, Account, int]:
    """ada owns a public room that bob has joined: the two-person setup most tests need."""
    ada, bob = await signup(http, "ada"), await signup(http, "bob")
    room_id: int = (await create_room(http, ada))["id"]
    await join(http, bob, room_id)
    return ada, bob, room_id
