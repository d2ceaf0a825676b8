"""Fan-out under load: order and completeness, and a slow reader that cannot hold anyone up."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from api.auth.schemas import UserSummary
from api.context import AppContext
from api.realtime.wire import AsgiWire
from tests.conftest import make_settings
from tests.factories import Account, create_room, join, signup
from tests.realtime.client import Client, joined, room_path
from tests.servers import LiveServer, serve_in_process


@pytest.fixture(params=["direct", "asgi"])
def wire(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways frames reach a socket: straight to Uvicorn's transport, and plain ASGI."""
    if request.param == "asgi":
        monkeypatch.setattr("api.realtime.hub.wire_for", lambda websocket, direct: AsgiWire(websocket))
        monkeypatch.setattr("api.realtime.connection.CLOSE_GRACE", 2.0)
    return str(request.param)


async def test_ten_clients_sending_thirty_each_all_see_300_in_order(
    wire: str, live_server: LiveServer, http: httpx.AsyncClient
) -> None:
    owner = await signup(http, "owner")
    room_id = (await create_room(http, owner))["id"]
    people = [await signup(http, f"talker{index}") for index in range(10)]
    for person in people:
        await join(http, person, room_id)
    async with contextlib.AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(joined(live_server, p, room_id)) for p in people]

        async def talk(client: Client, person: Account) -> None:
            for index in range(30):
                await client.say(f"{person.username} {index}", nonce=f"{person.username}-{index}")

        receivers = [asyncio.create_task(client.messages(300, timeout=60)) for client in clients]
        await asyncio.gather(*(talk(c, p) for c, p in zip(clients, people, strict=True)))
        received = await asyncio.gather(*receivers)
    for messages in received:
        assert [m["seq"] for m in messages] == list(range(1, 301))
    bodies = {m["body"] for m in received[0]}
    assert bodies == {f"{p.username} {i}" for p in people for i in range(30)}
    page = await http.get(f"/api/rooms/{room_id}/messages?after=0&limit=200", headers=owner.headers)
    assert page.json()["has_more"] is True


@pytest.fixture
async def small_queue_server(wire: str, database_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    settings = make_settings(database_url, tmp_path, ws_queue_frames=100)
    async with serve_in_process(settings) as server:
        yield server


def tiny_receive_buffer() -> socket.socket:
    """A client socket that holds little, so a client that stops reading pushes back at once."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    return sock


async def test_a_client_that_stops_reading_delays_nobody_and_is_closed_with_1013(
    small_queue_server: LiveServer,
) -> None:
    server = small_queue_server
    assert server.app is not None
    context: AppContext = server.app.state.context
    async with httpx.AsyncClient(base_url=server.http_url) as http:
        owner, sloth = await signup(http, "owner"), await signup(http, "sloth")
        room_id = (await create_room(http, owner))["id"]
        await join(http, sloth, room_id)
    sock = tiny_receive_buffer()
    sock.connect(("127.0.0.1", server.port))
    slow = await connect(server.ws_url(room_path(room_id, sloth.token)), sock=sock, max_queue=1)
    author = UserSummary(id=owner.id, username=owner.username, display_name=owner.username)
    count, body = 1500, "x" * 4000  # ~6 MB: more than every buffer between the server and the sloth
    sent_at: dict[int, float] = {}
    try:
        async with joined(server, owner, room_id) as fast:

            async def produce() -> None:
                for start in range(0, count, 25):
                    batch = [
                        context.writer.submit(room_id=room_id, author=author, body=f"{i} {body}", nonce=None)
                        for i in range(start, start + 25)
                    ]
                    now = time.monotonic()
                    for stored in await asyncio.gather(*batch):
                        sent_at[stored.message.seq] = now
                    await asyncio.sleep(0)

            producer = asyncio.create_task(produce())
            latencies = []
            for expected in range(1, count + 1):
                message = (await fast.messages(1))[0]
                assert message["seq"] == expected
                latencies.append(time.monotonic() - sent_at.get(expected, time.monotonic()))
            await producer
        # The reader got everything, in order, promptly, although one member never read.
        latencies.sort()
        assert latencies[len(latencies) // 2] < 0.5 and latencies[-1] < 3, latencies[-5:]
        assert context.hub.stats.overflows == 1
        # Reading again, the sloth finds what it was sent, then the 1013 close.
        with contextlib.suppress(ConnectionClosed):
            async with asyncio.timeout(20):
                while True:
                    await slow.recv()
        assert slow.close_code == 1013
    finally:
        await slow.close()
        sock.close()
