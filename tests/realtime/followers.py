"""Clients that behave as the SPEC asks clients to, for the fault tests.

A `Follower` follows one room, through a room socket or a `/ws` subscription. It keeps the
last rev it has seen; when its connection drops (a dead worker, a restart, a 1013) it
reconnects to the first worker that answers, with `since_rev`, and sends again, with the
same nonce, whatever it sent that was not acknowledged, as it does after `unavailable`.
It counts what it receives: every change once, in rev order, or it notes a duplicate or a
change out of order; and it keeps the room as it has seen it, to compare with the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from tests.factories import Account
from tests.realtime.client import room_path, ws_path
from tests.servers import ServerProcess

Frame = dict[str, Any]
# Closes after which a client reconnects: the server went away, restarts, or sent it away.
RECONNECT_CODES = {None, 1006, 1011, 1012, 1013, 1001}
RESEND_AFTER = 0.2  # seconds a client waits before sending a refused (unavailable) send again
RATE_LIMITED_RESEND_AFTER = 0.5
CONNECT_RETRY = 0.1


@dataclass
class Counts:
    """What a follower counted; `lost` and the state are judged against the database."""

    sent: int = 0  # distinct messages
    resent: int = 0
    acknowledged: int = 0
    received: int = 0  # changes: history entries and live frames
    duplicated: int = 0
    out_of_order: int = 0
    unavailable: int = 0
    rate_limited: int = 0
    repeats: int = 0  # a resend answered with the stored message (the first one was stored)
    refused_without_nonce: int = 0  # a refusal that does not say which send it refuses
    reconnects: int = 0
    catch_up_seconds: list[float] = field(default_factory=list)  # drop -> history received


class Follower:
    def __init__(
        self,
        name: str,
        account: Account,
        room_id: int,
        *,
        multiplexed: bool,
        workers: Sequence[ServerProcess],
    ) -> None:
        self.name = name
        self.account = account
        self.room_id = room_id
        self.multiplexed = multiplexed
        self.workers = list(workers)  # in the order this client tries them
        self.last_rev = 0
        self.seen: set[int] = set()
        self.state: dict[int, MessageState] = {}
        self.counts = Counts()
        self.pending: dict[str, str] = {}  # nonce -> body: sent, not acknowledged yet
        self.sent: dict[str, str] = {}
        self.events: list[Frame] = []  # frames that are not changes: join, leave, errors...
        self.closes: list[tuple[int | None, str]] = []
        self.worker: ServerProcess | None = None
        self._connection: ClientConnection | None = None
        self._sends = 0
        self._updated = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._reconnect = True
        self._dropped_at: float | None = None
        self.failure: Exception | None = None
        self.log: list[tuple[int, int, str, int]] = []
        self._resends: Counter[str | None] = Counter()
        self._answers: Counter[str | None] = Counter()

    # --- connecting ------------------------------------------------------------

    async def start(self) -> None:
        await self._connect()

    async def stop(self) -> None:
        self._reconnect = False
        if self._connection is not None:
            await self._connection.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    @property
    def connected(self) -> bool:
        return self._connection is not None

    async def _connect(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            for worker in self.workers:
                with contextlib.suppress(OSError, InvalidHandshake, TimeoutError, ConnectionClosed):
                    await self._connect_to(worker)
                    return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} found no worker to reconnect to")
            await asyncio.sleep(CONNECT_RETRY)

    async def _connect_to(self, worker: ServerProcess) -> None:
        token = self.account.token
        if self.multiplexed:
            connection = await connect(worker.ws_url(ws_path(token)), open_timeout=3)
            try:
                ready = json.loads(await asyncio.wait_for(connection.recv(), 5))
                assert ready["type"] == "ready", ready
                subscribe = {"type": "subscribe", "room_id": self.room_id, "since_rev": self.last_rev}
                await connection.send(json.dumps(subscribe))
            except BaseException:
                await connection.close()
                raise
        else:
            path = room_path(self.room_id, token, since_rev=self.last_rev)
            connection = await connect(worker.ws_url(path), open_timeout=3)
        try:
            async with asyncio.timeout(10):
                while True:
                    frame = json.loads(await connection.recv())
                    if frame["type"] == "history":
                        break
                    self.events.append(frame)
        except BaseException:
            await connection.close()
            raise
        self._history(frame)
        if self._dropped_at is not None:
            self.counts.catch_up_seconds.append(time.monotonic() - self._dropped_at)
            self.counts.reconnects += 1
            self._dropped_at = None
        self._connection = connection
        self.worker = worker
        self._spawn(self._read(connection))
        for nonce in list(self.pending):
            await self._send(nonce, resend=True)

    async def _read(self, connection: ClientConnection) -> None:
        try:
            async for raw in connection:
                self._frame(json.loads(raw))
        except ConnectionClosed:
            pass
        self._connection = None
        self.closes.append((connection.close_code, connection.close_reason or ""))
        self._updated.set()
        if self._reconnect and connection.close_code in RECONNECT_CODES:
            self._dropped_at = time.monotonic()
            try:
                await self._connect()
            except Exception as exc:  # seen by whoever waits on this follower
                self.failure = exc
                self._updated.set()

    # --- sending ---------------------------------------------------------------

    async def say(self) -> str:
        """Send the next message of this follower; its body."""
        self._sends += 1
        nonce = f"{self.name}-{self._sends}"
        body = f"{self.name} says {self._sends}"
        self.pending[nonce] = self.sent[nonce] = body
        self.counts.sent += 1
        await self._send(nonce)
        return body

    async def _send(self, nonce: str, *, resend: bool = False) -> None:
        connection = self._connection
        if connection is None or nonce not in self.pending:
            return  # sent again when the connection is back
        frame = {"type": "message", "body": self.pending[nonce], "nonce": nonce}
        if self.multiplexed:
            frame["room_id"] = self.room_id
        if resend:
            self.counts.resent += 1
            self._resends[nonce] += 1
        with contextlib.suppress(ConnectionClosed):
            await connection.send(json.dumps(frame))

    async def _resend_later(self, nonce: str, after: float = RESEND_AFTER) -> None:
        await asyncio.sleep(after)
        await self._send(nonce, resend=True)

    async def stream(self, count: int, *, window: int = 3) -> None:
        """Send `count` messages, at most `window` unacknowledged at a time."""
        for _ in range(count):
            await self.wait_until(lambda: len(self.pending) < window, timeout=60)
            await self.say()
        await self.wait_until(lambda: not self.pending, timeout=60)

    # --- receiving -------------------------------------------------------------

    def _history(self, frame: Frame) -> None:
        for message in frame["messages"]:
            self._change(message["rev"], message, "history")
        self.last_rev = max(self.last_rev, frame["last_rev"])
        self._updated.set()

    def _frame(self, frame: Frame) -> None:
        kind = frame["type"]
        if kind == "message":
            nonce = frame.get("nonce")
            if frame["rev"] in self.seen and self._answers[nonce] < self._resends[nonce]:
                # The answer to a resend of what was stored already: not a change.
                self._answers[nonce] += 1
                self.counts.repeats += 1
                self._acknowledge(nonce)
            else:
                self._change(frame["rev"], frame["message"], kind)
        elif kind == "edit":
            self._change(frame["rev"], frame["message"], kind)
        elif kind == "delete":
            self._change(frame["rev"], {"seq": frame["seq"], "body": "", "deleted": True}, kind)
        elif kind == "reaction":
            self._react(frame)
        else:
            self.events.append(frame)
            if kind == "error" and frame.get("nonce") not in self.sent:
                self.counts.refused_without_nonce += 1
            elif kind == "error" and frame.get("nonce") in self.pending:
                if frame["code"] == "unavailable":
                    self.counts.unavailable += 1
                    self._spawn(self._resend_later(frame["nonce"]))
                elif frame["code"] == "rate_limited":
                    self.counts.rate_limited += 1
                    self._spawn(self._resend_later(frame["nonce"], RATE_LIMITED_RESEND_AFTER))
        self._updated.set()

    def _react(self, frame: Frame) -> None:
        """A reaction frame is a change to one message's reactions, not the whole message."""
        if not self._count(frame["rev"], frame["seq"], "reaction"):
            return
        body, deleted, reactions = self.state.get(frame["seq"], ("", False, ()))
        users = dict(reactions)
        who = set(users.get(frame["emoji"], ()))
        if frame["added"]:
            who.add(frame["user"]["id"])
        else:
            who.discard(frame["user"]["id"])
        users[frame["emoji"]] = frozenset(who)
        self.state[frame["seq"]] = (body, deleted, reactions_state(users))

    def _count(self, rev: int, seq: int, how: str) -> bool:
        """Count a change; False when it is one this follower had already."""
        self.counts.received += 1
        # (rev, seq, how it came, the connection's number): what a failure message shows.
        self.log.append((rev, seq, how, len(self.closes)))
        if rev in self.seen:
            self.counts.duplicated += 1
            return False
        if rev < self.last_rev:
            self.counts.out_of_order += 1
        self.seen.add(rev)
        self.last_rev = max(self.last_rev, rev)
        return True

    def _change(self, rev: int, message: Frame, how: str) -> None:
        if not self._count(rev, message["seq"], how):
            return
        self.state[message["seq"]] = message_state(message)
        author = message.get("author") or {}
        if author.get("id") == self.account.id:
            for nonce, body in list(self.pending.items()):
                if body == message["body"]:
                    self._acknowledge(nonce)

    def _acknowledge(self, nonce: str) -> None:
        if self.pending.pop(nonce, None) is not None:
            self.counts.acknowledged += 1

    # --- waiting ----------------------------------------------------------------

    async def wait_until(self, condition: Callable[[], bool], *, timeout: float) -> None:
        async with asyncio.timeout(timeout):
            while not condition():
                if self.failure is not None:
                    raise AssertionError(f"{self.name} could not reconnect") from self.failure
                self._updated.clear()
                await self._updated.wait()

    def events_of(self, kind: str) -> list[Frame]:
        return [frame for frame in self.events if frame["type"] == kind]

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


# (body, deleted, ((emoji, users), ...) sorted): a message as the tests compare it.
MessageState = tuple[str, bool, tuple[tuple[str, frozenset[int]], ...]]


def reactions_state(users: dict[str, frozenset[int]]) -> tuple[tuple[str, frozenset[int]], ...]:
    return tuple(sorted((emoji, who) for emoji, who in users.items() if who))


def message_state(message: Frame) -> MessageState:
    reactions = {r["emoji"]: frozenset(r["users"]) for r in message.get("reactions") or ()}
    return message["body"], message["deleted"], reactions_state(reactions)


@dataclass(frozen=True)
class Room:
    """The room as the database holds it at the end."""

    last_rev: int
    state: dict[int, MessageState]
    current_revs: set[int]
    bodies: list[str]


async def room_in_database(http: httpx.AsyncClient, who: Account, room_id: int) -> Room:
    messages: list[Frame] = []
    after = 0
    while True:
        response = await http.get(
            f"/api/rooms/{room_id}/changes", params={"after_rev": after, "limit": 500}, headers=who.headers
        )
        assert response.status_code == 200, response.text
        page = response.json()
        messages += page["messages"]
        if not page["has_more"]:
            break
        after = page["messages"][-1]["rev"]
    return Room(
        last_rev=page["last_rev"],
        state={m["seq"]: message_state(m) for m in messages},
        current_revs={m["rev"] for m in messages},
        bodies=[m["body"] for m in messages if not m["deleted"]],
    )


def judge(followers: Sequence[Follower], room: Room) -> dict[str, Any]:
    """Every follower saw every change once, in order, and holds the room as stored; every
    message anyone sent is stored once. The counts, for the report."""
    lost = 0
    for follower in followers:
        counts = follower.counts
        assert counts.duplicated == 0, (
            f"{follower.name} got {counts.duplicated} changes twice: {follower.log}"
        )
        assert counts.out_of_order == 0, f"{follower.name} got changes out of order: {follower.log}"
        assert counts.refused_without_nonce == 0, follower.events_of("error")
        missing = room.current_revs - follower.seen
        lost += len(missing)
        assert not missing, f"{follower.name} never got the changes at revs {sorted(missing)}"
        assert follower.state == room.state, f"{follower.name} holds another room than the database"
        assert not follower.pending, f"{follower.name} never had {sorted(follower.pending)} acknowledged"
        for body in follower.sent.values():
            assert room.bodies.count(body) == 1, f"{body!r} is stored {room.bodies.count(body)} times"
    catch_ups = [seconds for f in followers for seconds in f.counts.catch_up_seconds]
    return {
        "sent": sum(f.counts.sent for f in followers),
        "resent": sum(f.counts.resent for f in followers),
        "acknowledged": sum(f.counts.acknowledged for f in followers),
        "received": sum(f.counts.received for f in followers),
        "duplicated": sum(f.counts.duplicated for f in followers),
        "out_of_order": sum(f.counts.out_of_order for f in followers),
        "lost": lost,
        "unavailable": sum(f.counts.unavailable for f in followers),
        "repeats": sum(f.counts.repeats for f in followers),
        "reconnects": sum(f.counts.reconnects for f in followers),
        "last_rev": room.last_rev,
        "slowest_catch_up_s": round(max(catch_ups), 3) if catch_ups else None,
    }
