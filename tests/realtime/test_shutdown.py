"""Shutdown closes every connection with 1012 `server_restart`, in bounded time; clients resume
with `since`."""

from __future__ import annotations

import asyncio
import time

import httpx
from websockets.asyncio.client import connect

from api.config import Settings
from tests.factories import create_room, signup
from tests.realtime.client import Client, room_path
from tests.servers import serve_in_process


async def test_shutdown_closes_connections_with_1012(settings: Settings) -> None:
    async with serve_in_process(settings) as server:
        async with httpx.AsyncClient(base_url=server.http_url) as http:
            ada = await signup(http, "ada")
            room_id = (await create_room(http, ada))["id"]
        clients = [Client(await connect(server.ws_url(room_path(room_id, ada.token)))) for _ in range(20)]
        for client in clients:
            await client.recv_type("presence")
        started = time.monotonic()
        closing = [asyncio.create_task(client.closed(timeout=15)) for client in clients]
    elapsed = time.monotonic() - started
    results = await asyncio.gather(*closing)
    assert set(results) == {(1012, "server_restart")}
    assert elapsed < settings.shutdown_grace_seconds + 5
