"""The baseline: Hubbub's room protocol written directly on `websockets`, nothing else.

No authentication, no database, no rate limits: `/ws/rooms/{id}?since=N` answers a
`history` frame (from the last 1000 messages kept in memory) and a `presence` frame,
then a `message` frame is given the room's next seq and sent to everyone in the room
with `websockets.broadcast()`; `ping` gets `pong`. Same event loop (uvloop), no
compression and the same 64 KiB frame limit as Hubbub, so the difference between the
two is what Hubbub does beyond moving frames.
"""

from __future__ import annotations

import argparse
import logging
from collections import defaultdict, deque
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import orjson
import uvloop
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosed

logger = logging.getLogger("baseline")

KEPT_MESSAGES = 1000
AUTHOR = {"id": 0, "username": "anonymous", "display_name": "anonymous"}


class Rooms:
    def __init__(self) -> None:
        self.members: defaultdict[int, set[ServerConnection]] = defaultdict(set)
        self.last_seq: defaultdict[int, int] = defaultdict(int)
        self.kept: defaultdict[int, deque[tuple[int, dict[str, object]]]] = defaultdict(
            lambda: deque(maxlen=KEPT_MESSAGES)
        )
        self.next_id = 1

    def store(self, room_id: int, body: str) -> dict[str, object]:
        seq = self.last_seq[room_id] = self.last_seq[room_id] + 1
        message: dict[str, object] = {
            "id": self.next_id,
            "room_id": room_id,
            "seq": seq,
            "author": AUTHOR,
            "body": body,
            "created_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "edited_at": None,
            "deleted": False,
        }
        self.next_id += 1
        self.kept[room_id].append((seq, message))
        return message


def _room_and_since(path: str) -> tuple[int, int | None]:
    parts = urlsplit(path)
    room_id = int(parts.path.rstrip("/").rsplit("/", 1)[-1])
    since = parse_qs(parts.query).get("since")
    return room_id, int(since[0]) if since else None


async def handle(connection: ServerConnection, rooms: Rooms) -> None:
    try:
        room_id, since = _room_and_since(connection.request.path if connection.request else "")
    except ValueError:
        await connection.close(1008, "invalid_parameter")
        return
    kept = rooms.kept[room_id]
    replay = [m for seq, m in kept if seq > since] if since is not None else [m for _, m in kept][-50:]
    history = {"type": "history", "messages": replay, "last_seq": rooms.last_seq[room_id], "truncated": False}
    await connection.send(orjson.dumps(history).decode())
    await connection.send(orjson.dumps({"type": "presence", "users": [AUTHOR]}).decode())
    members = rooms.members[room_id]
    members.add(connection)
    try:
        async for text in connection:
            frame = orjson.loads(text)
            kind = frame.get("type")
            if kind == "message":
                message = rooms.store(room_id, str(frame.get("body", "")).strip())
                out = {"type": "message", "message": message, "nonce": frame.get("nonce")}
                broadcast(members, orjson.dumps(out).decode())
            elif kind == "ping":
                await connection.send('{"type":"pong"}')
    except ConnectionClosed:
        pass
    finally:
        members.discard(connection)


async def relay(connection: ServerConnection, rooms: Rooms) -> None:
    """`--verbatim`: every text frame goes to everyone in the room as it came, with
    `broadcast()`; the least a relay can do (the load generator numbers its own messages)."""
    try:
        room_id, _ = _room_and_since(connection.request.path if connection.request else "")
    except ValueError:
        await connection.close(1008, "invalid_parameter")
        return
    await connection.send('{"type":"history","messages":[],"last_seq":0,"truncated":false}')
    members = rooms.members[room_id]
    members.add(connection)
    try:
        async for text in connection:
            broadcast(members, text)
    except ConnectionClosed:
        pass
    finally:
        members.discard(connection)


async def main(host: str, port: int, *, verbatim: bool = False) -> None:
    rooms = Rooms()
    handler = relay if verbatim else handle
    async with serve(
        lambda connection: handler(connection, rooms),
        host,
        port,
        compression=None,
        max_size=64 * 1024,
        backlog=4096,
    ) as server:
        logger.info("baseline listening on %s:%d", host, port)
        await server.serve_forever()


def cli() -> None:
    parser = argparse.ArgumentParser(description="Minimal room server on websockets (the bench baseline)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--verbatim", action="store_true", help="relay each frame as it came")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    uvloop.run(main(args.host, args.port, verbatim=args.verbatim))


if __name__ == "__main__":
    cli()
