# /// script
# requires-python = ">=3.11"
# dependencies = ["httpx>=0.28", "websockets>=14"]
# ///
"""A Hubbub bot: it answers when someone mentions it, streaming its answer by editing it.

It lives on one `/ws` connection with its API token: it subscribes to every room it is in
(`GET /api/me/rooms`), joins the rooms it is invited to (`room_added`), and keeps, per room,
the last `rev` it has handled in a small state file. After a restart (its own or the
server's) it resubscribes with `since_rev`, so it misses nothing said meanwhile, and it
answers each mention once: a message is new to it only if its `seq` is above the last one
it handled, and each answer carries a nonce made from the question's seq, so even an answer
cut short by a crash is finished, not sent twice.

    HUBBUB_URL=http://127.0.0.1:8000 HUBBUB_TOKEN=hbb_... python examples/mention_bot.py

Settings (environment): HUBBUB_URL, HUBBUB_TOKEN (an API token, see `hubbub create-bot`),
BOT_STATE (the state file, default `mention-bot-state.json`), BOT_STREAM_PAUSE (seconds
between the edits of a streamed answer, default 0.4). It needs httpx and websockets
(`pip install httpx websockets`, or run it with `uv run`, which reads the header above).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

logger = logging.getLogger("mention_bot")

Frame = dict[str, Any]
# Closes that no reconnect can cure: the token is wrong, revoked or expired, or the bot
# was deactivated. Everything else (a restart, an overloaded server) is worth a retry.
FATAL_CLOSES = {4401, 1008}
SUBSCRIBE_BATCH = 100  # rooms per subscribe frame, the server's limit
STREAMING = " …"  # how an answer ends while it is still being written


class Fatal(Exception):
    """The bot cannot go on (its token no longer works)."""


@dataclass
class RoomState:
    rev: int  # every change up to this rev has been handled
    seq: int  # every message up to this seq has been seen (and answered, if it asked)


@dataclass
class State:
    """What survives a restart, written atomically after every change."""

    path: Path
    rooms: dict[int, RoomState] = field(default_factory=dict)
    fresh: bool = True  # no state file yet: start from now, answer nothing older

    @classmethod
    def load(cls, path: Path) -> State:
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            return cls(path)
        rooms = {int(room_id): RoomState(**room) for room_id, room in data["rooms"].items()}
        return cls(path, rooms, fresh=False)

    def save(self) -> None:
        data = {"rooms": {str(room_id): vars(room) for room_id, room in self.rooms.items()}}
        partial = self.path.with_suffix(".tmp")
        partial.write_text(json.dumps(data))
        partial.replace(self.path)  # atomic: a crash leaves the old state or the new one
        self.fresh = False


class MentionBot:
    def __init__(self, base_url: str, token: str, state: State, stream_pause: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.state = state
        self.stream_pause = stream_pause
        self.http = httpx.AsyncClient(
            base_url=self.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=15
        )
        self.me: Frame = {}
        # SIGTERM while a frame is being handled waits for it (and the state it leaves).
        self.busy = False
        self.stopping = False

    async def run(self) -> None:
        """Connect, and reconnect after anything but a fatal close, backing off up to 5 s."""
        delay = 0.5
        while not self.stopping:
            try:
                closed = await self.live()
                logger.warning("the server closed the connection (%s); reconnecting", closed)
                delay = 0.5
            except (OSError, InvalidHandshake, httpx.TransportError) as exc:
                logger.warning("cannot reach the server (%r); trying again in %.1f s", exc, delay)
            except httpx.HTTPStatusError as exc:
                if exc.response.status_code in (401, 403):
                    raise Fatal(f"the server refused the token: {exc.response.text}") from exc
                logger.warning(
                    "the server answered %d; trying again in %.1f s", exc.response.status_code, delay
                )
            if not self.stopping:
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, 5.0)

    async def live(self) -> str:
        """One connection, from the first frame to its close; how it closed."""
        response = await self.http.get("/api/users/me")
        response.raise_for_status()
        self.me = response.json()
        memberships = await self.get("/api/me/rooms")
        url = self.base_url.replace("http", "ws", 1) + "/ws?token=" + quote(self.token)
        async with connect(url, open_timeout=10) as ws:
            try:
                ready = json.loads(await ws.recv())
                if ready.get("type") != "ready":
                    raise Fatal(f"unexpected first frame {ready}")
                logger.info("connected as %s", self.me["username"])
                await self.subscribe_all(ws, [m["room"] for m in memberships])
                async for text in ws:
                    self.busy = True
                    try:
                        await self.handle(ws, json.loads(text))
                    finally:
                        self.busy = False
                    if self.stopping:
                        raise asyncio.CancelledError
            except ConnectionClosed:
                pass
        if ws.close_code in FATAL_CLOSES:
            raise Fatal(f"the server closed the connection: {ws.close_code} {ws.close_reason}")
        return f"{ws.close_code} {ws.close_reason}"

    async def subscribe_all(self, ws: ClientConnection, rooms: list[Frame]) -> None:
        known = self.state.rooms
        for room in rooms:
            if room["id"] not in known:
                # On a first start, begin at the room's present; a room added while the bot
                # was away is read from its start (only messages from its time in the room
                # can mention it).
                fresh = self.state.fresh
                known[room["id"]] = (
                    RoomState(room["last_rev"], room["last_seq"]) if fresh else RoomState(0, 0)
                )
        for room_id in set(known) - {room["id"] for room in rooms}:
            del known[room_id]  # left or removed while the bot was away
        self.state.save()
        room_ids = sorted(known)
        for first in range(0, len(room_ids), SUBSCRIBE_BATCH):
            batch = [
                {"room_id": r, "since_rev": known[r].rev} for r in room_ids[first : first + SUBSCRIBE_BATCH]
            ]
            await ws.send(json.dumps({"type": "subscribe", "rooms": batch}))
        logger.info("subscribed to %d rooms", len(room_ids))

    async def handle(self, ws: ClientConnection, frame: Frame) -> None:
        kind, room_id = frame.get("type"), frame.get("room_id", 0)
        room = self.state.rooms.get(room_id)
        if kind == "history" and room is not None:
            await self.catch_up(room_id, room, frame)
        elif kind == "message" and room is not None:
            await self.new_message(room_id, room, frame["message"])
            room.rev = max(room.rev, frame["rev"])
        elif kind in ("edit", "delete", "reaction") and room is not None:
            room.rev = max(room.rev, frame["rev"])
        elif kind == "room_added":
            added = frame["room"]
            self.state.rooms[added["id"]] = RoomState(added["last_rev"], added["last_seq"])
            await ws.send(
                json.dumps({"type": "subscribe", "room_id": added["id"], "since_rev": added["last_rev"]})
            )
            logger.info("added to room %s", added["name"])
        elif kind in ("room_removed", "unsubscribed") and room is not None:
            del self.state.rooms[room_id]
        elif kind == "announcement":
            logger.info("announcement from %s: %s", frame["from"]["username"], frame["body"])
        elif kind == "error":
            logger.warning("the server refused a frame: %s", frame)
        else:
            return
        self.state.save()

    async def catch_up(self, room_id: int, room: RoomState, history: Frame) -> None:
        """What changed since the last rev handled: the history frame, then, when it was
        truncated, the pages of `changes` after it."""
        messages, truncated = history["messages"], history["truncated"]
        last_rev = history["last_rev"]
        while True:
            for message in sorted(messages, key=lambda m: m["seq"]):
                await self.new_message(room_id, room, message)
            if messages:
                room.rev = max(room.rev, max(m["rev"] for m in messages))
            self.state.save()
            if not truncated or not messages:
                break
            page = await self.get(f"/api/rooms/{room_id}/changes", params={"after_rev": room.rev})
            messages, truncated, last_rev = page["messages"], page["has_more"], page["last_rev"]
        room.rev = max(room.rev, last_rev)

    async def new_message(self, room_id: int, room: RoomState, message: Frame) -> None:
        if message["seq"] <= room.seq:
            return  # seen before: an edit, a delete or a reaction to it; never answered again
        mentioned = self.me["id"] in message.get("mentions", [])
        if mentioned and message["author"]["id"] != self.me["id"] and not message["deleted"]:
            await self.answer(room_id, message)
        room.seq = message["seq"]

    async def answer(self, room_id: int, question: Frame) -> None:
        """Send a first part, then edit the message as the rest is "produced". The nonce names
        the question: after a crash the server hands back the answer already sent (200), which
        is finished when it is complete, or else streamed to its end."""
        parts = compose(question["body"], self.me["username"])
        body = {
            "body": parts[0] + STREAMING,
            "nonce": f"answer-{question['seq']}",
            "reply_to": question["seq"],
        }
        sent = await self.call("POST", f"/api/rooms/{room_id}/messages", body)
        if sent is None or not sent["body"].endswith(STREAMING):
            return  # no longer allowed in the room, or answered before a restart
        for count in range(2, len(parts) + 1):
            await asyncio.sleep(self.stream_pause)
            text = " ".join(parts[:count]) + ("" if count == len(parts) else STREAMING)
            if (
                await self.call("PATCH", f"/api/rooms/{room_id}/messages/{sent['seq']}", {"body": text})
                is None
            ):
                return
        logger.info("answered %s in room %d", question["author"]["username"], room_id)

    async def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        response = await self.http.get(path, params=params)
        response.raise_for_status()
        return response.json()

    async def call(self, method: str, path: str, body: Frame) -> Frame | None:
        """A write, retried when rate-limited; None when the room is no longer ours."""
        for _ in range(5):
            response = await self.http.request(method, path, json=body)
            if response.status_code == 429:
                await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
                continue
            if response.status_code in (403, 404):
                logger.warning("%s %s: %s", method, path, response.text)
                return None
            response.raise_for_status()
            result: Frame = response.json()
            return result
        return None


def compose(question: str, my_name: str) -> list[str]:
    """The answer, in the parts it is streamed in."""
    asked = " ".join(
        word for word in question.split() if word.lower().rstrip(".,:;!?") != f"@{my_name.lower()}"
    )
    return [
        f"You asked: “{asked or question}”.",
        "I am the example bot from Hubbub's repository, so I have no real answer,",
        "but I can show how an assistant's answer arrives:",
        "this message was edited a few times while it was written.",
    ]


async def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    base_url, token = os.environ.get("HUBBUB_URL", "http://127.0.0.1:8000"), os.environ.get("HUBBUB_TOKEN")
    if not token:
        logger.error("set HUBBUB_TOKEN to the bot's API token (hubbub create-bot NAME prints one)")
        return 2
    state = State.load(Path(os.environ.get("BOT_STATE", "mention-bot-state.json")))
    bot = MentionBot(base_url, token, state, float(os.environ.get("BOT_STREAM_PAUSE", "0.4")))
    running = asyncio.current_task()
    assert running is not None

    def stop() -> None:
        bot.stopping = True
        if not bot.busy:
            running.cancel()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop)
    try:
        await bot.run()
    except (Fatal, InvalidURI) as exc:
        logger.error("%s", exc)
        return 1
    except asyncio.CancelledError:
        logger.info("stopped")
    finally:
        await bot.http.aclose()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
