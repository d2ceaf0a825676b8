"""The hub's ordering by rev: early changes wait, duplicates drop, gaps are read from the
database, and a catch-up after an outage delivers every kind of change once, in order."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

import api.realtime.hub as hub_module
from api.auth.schemas import UserSummary
from api.realtime.brokers.memory import MemoryBroker
from api.realtime.envelope import Envelope, Kind
from api.realtime.hub import CatchUp, ChangeSource, ConnectionView, Hub, RoomChannel, Verdict
from api.realtime.presence import MemoryPresence
from api.realtime.protocol import CloseReason

ADA = UserSummary(id=1, username="ada", display_name="Ada")
ROOM = 7


@dataclass(eq=False)
class Recorder:
    """Stands in for a Subscription and its Connection: records what fan-out offers."""

    user: UserSummary = field(default_factory=lambda: ADA)
    frames: list[dict[str, Any]] = field(default_factory=list)
    closed: CloseReason | None = None
    subscriptions: dict[int, object] = field(default_factory=dict)
    offered: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def connection(self) -> Recorder:
        return self

    def offer(self, frame: Any, rev: int = 0) -> None:
        self.frames.append(orjson.loads(frame.text))
        self.offered.set()

    def push(self, frame: Any) -> None:
        self.frames.append(orjson.loads(frame.text))

    def close(self, reason: CloseReason) -> None:
        self.closed = reason

    @property
    def revs(self) -> list[int]:
        return [frame["rev"] for frame in self.frames]


def payload(seq: int, rev: int, body: str = "", deleted: bool = False) -> dict[str, Any]:
    return {
        "id": seq,
        "room_id": ROOM,
        "seq": seq,
        "rev": rev,
        "author": ADA.model_dump(),
        "body": "" if deleted else body or f"m{seq}",
        "created_at": datetime.now(UTC),
        "edited_at": None,
        "deleted": deleted,
    }


def change(rev: int, seq: int = 0) -> Envelope:
    return Envelope(Kind.CHANGE, ROOM, orjson.dumps({"rev": rev, "seq": seq}).decode(), rev=rev, seq=seq)


class FakeDatabase:
    """The room as the database holds it: its messages in their current state."""

    def __init__(self) -> None:
        self.messages: dict[int, dict[str, Any]] = {}
        self.last_rev = 0
        self.reads: list[int] = []

    def new(self, body: str = "") -> int:
        self.last_rev += 1
        seq = len(self.messages) + 1
        self.messages[seq] = payload(seq, self.last_rev, body)
        return seq

    def edit(self, seq: int, body: str) -> None:
        self.last_rev += 1
        self.messages[seq] = {**self.messages[seq], "body": body, "rev": self.last_rev}

    def delete(self, seq: int) -> None:
        self.last_rev += 1
        self.messages[seq] = payload(seq, self.last_rev, deleted=True)

    async def tops(self, room_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
        return {ROOM: (len(self.messages), self.last_rev)}

    async def catch_up(self, room_id: int, after_rev: int, limit: int) -> CatchUp:
        self.reads.append(after_rev)
        changed = sorted((m for m in self.messages.values() if m["rev"] > after_rev), key=lambda m: m["rev"])
        return CatchUp(
            [(m, None) for m in changed[:limit]], len(changed) > limit, len(self.messages), self.last_rev
        )

    async def recheck(self, views: Sequence[ConnectionView]) -> list[Verdict]:
        return [Verdict() for _ in views]


def make_hub(database: FakeDatabase) -> Hub:
    return Hub(
        broker=MemoryBroker(),
        presence=MemoryPresence(),
        source=ChangeSource(tops=database.tops, catch_up=database.catch_up, recheck=database.recheck),
        queue_frames=100,
        gap_fill_seconds=0.05,
        presence_refresh_seconds=60,
        recent_messages=100,
    )


async def open_channel(hub: Hub) -> tuple[RoomChannel, Recorder]:
    channel = await hub._open_channel(ROOM)
    recorder = Recorder()
    channel.subscriptions.add(recorder)  # type: ignore[arg-type]
    return channel, recorder


async def test_early_changes_wait_and_duplicates_drop() -> None:
    channel = RoomChannel(ROOM)
    recorder = Recorder()
    channel.subscriptions.add(recorder)  # type: ignore[arg-type]
    assert channel.offer(change(3)) is False  # not positioned yet: buffered, no gap timer
    channel.start_at(2, 1)
    assert channel.offer(change(4)) is True  # 2 is missing
    assert recorder.revs == []
    assert channel.offer(change(2)) is False
    assert recorder.revs == [2, 3, 4]
    channel.offer(change(3))
    channel.offer(change(1))
    assert recorder.revs == [2, 3, 4]


async def test_a_gap_that_is_not_filled_in_time_is_read_from_the_database() -> None:
    database = FakeDatabase()
    database.new()
    hub = make_hub(database)
    await hub.start()
    try:
        _, recorder = await open_channel(hub)
        database.new()  # rev 2: its envelope got lost
        database.edit(1, "edited")  # rev 3: lost too
        database.new()  # rev 4: arrives
        hub.deliver(change(4, seq=3))
        assert recorder.frames == []
        async with asyncio.timeout(5):
            while len(recorder.frames) < 3:
                await recorder.offered.wait()
                recorder.offered.clear()
        assert database.reads == [1]
        assert [(f["type"], f["rev"]) for f in recorder.frames] == [
            ("message", 2),
            ("edit", 3),
            ("message", 4),
        ]
        assert recorder.frames[1]["message"]["body"] == "edited"
    finally:
        await hub.stop(grace=1)


async def test_a_gap_filled_in_time_costs_no_read() -> None:
    database = FakeDatabase()
    hub = make_hub(database)
    await hub.start()
    try:
        _, recorder = await open_channel(hub)
        hub.deliver(change(2, seq=2))
        hub.deliver(change(1, seq=1))
        await asyncio.sleep(0.15)
        assert recorder.revs == [1, 2]
        assert database.reads == []
    finally:
        await hub.stop(grace=1)


async def test_catching_up_after_an_outage_delivers_every_kind_of_change_once_in_order() -> None:
    database = FakeDatabase()
    for _ in range(3):
        database.new()
    hub = make_hub(database)
    await hub.start()
    try:
        _, recorder = await open_channel(hub)
        # While the broker was down, other workers stored all of this.
        database.edit(1, "one, edited")  # rev 4
        database.delete(2)  # rev 5
        database.new("four")  # rev 6, seq 4
        database.edit(1, "one, edited twice")  # rev 7 supersedes rev 4
        await hub._catch_up()
        assert [(f["type"], f["rev"]) for f in recorder.frames] == [
            ("delete", 5),
            ("message", 6),
            ("edit", 7),
        ]
        assert recorder.frames[2]["message"]["body"] == "one, edited twice"
        # What the channel now keeps agrees: seq 4 is known as the database has it; older
        # messages were not followed, so a history from before it is read from the database.
        after_3 = hub.recent_history(
            ROOM, admitted_at=time.monotonic(), since=3, since_rev=None, newest=50, replay=1000
        )
        assert after_3 is not None and (after_3.last_seq, after_3.last_rev) == (4, 7)
        assert [orjson.loads(orjson.dumps(m))["body"] for m in after_3.messages] == ["four"]
        assert (
            hub.recent_history(
                ROOM, admitted_at=time.monotonic(), since=None, since_rev=None, newest=50, replay=1000
            )
            is None
        )
        assert (
            hub.recent_history(
                ROOM, admitted_at=time.monotonic(), since=None, since_rev=4, newest=50, replay=1000
            )
            is None
        )
        hub.deliver(change(6, seq=4))  # a late duplicate
        hub.deliver(change(8, seq=5))
        assert recorder.revs == [5, 6, 7, 8]
    finally:
        await hub.stop(grace=1)


async def test_a_new_message_changed_again_in_the_gap_sends_subscribers_to_reconnect() -> None:
    database = FakeDatabase()
    hub = make_hub(database)
    await hub.start()
    try:
        _, recorder = await open_channel(hub)
        database.new()  # rev 1, seq 1
        database.new()  # rev 2, seq 2
        database.edit(1, "edited")  # rev 3: seq 1 now reads after seq 2 in rev order
        await hub._catch_up()
        # Neither rev order nor seq order could be kept: reconnect with since_rev instead.
        assert recorder.frames == []
        assert recorder.closed is not None and recorder.closed.code == 1013
        hub.deliver(change(4, seq=3))
        assert recorder.revs == [4]  # the channel stands after what it read
    finally:
        await hub.stop(grace=1)


def test_envelopes_survive_the_wire() -> None:
    envelope = Envelope(
        Kind.CHANGE,
        3,
        '{"type": "x", "s": "line\\nbreak é"}',
        rev=12,
        seq=4,
        user_id=9,
        user_ids=(1, 2),
        extra='{"type":"activity"}',
    )
    decoded = Envelope.decode(envelope.encode())
    assert decoded == envelope


async def test_a_close_between_admission_and_registration_still_closes() -> None:
    hub = make_hub(FakeDatabase())
    admitted_at = time.monotonic()
    # The user's tokens are revoked after this connection's credential was checked...
    hub.deliver(Envelope(Kind.CLOSE, user_id=ADA.id, close="token_revoked", credential="login"))
    late = Recorder()
    late.credential = "login"  # type: ignore[attr-defined]
    other = Recorder()
    other.credential = "api:7"  # type: ignore[attr-defined]
    # ...and before it was registered: it must not slip through.
    hub.register(late, admitted_at=admitted_at)  # type: ignore[arg-type]
    hub.register(other, admitted_at=admitted_at)  # type: ignore[arg-type]
    assert late.closed is not None and late.closed.reason == "token_revoked"
    assert other.closed is None  # another credential is not affected
    newer = Recorder()
    newer.credential = "login"  # type: ignore[attr-defined]
    hub.register(newer, admitted_at=time.monotonic())  # type: ignore[arg-type]
    assert newer.closed is None  # checked after the close: it is a new login


async def test_a_channel_opened_after_the_admission_sends_no_history_of_its_own() -> None:
    """An end published elsewhere before this worker heard the room never reached it: such
    a subscriber's history, and its membership, are read from the database."""
    database = FakeDatabase()
    database.new()
    hub = make_hub(database)
    await hub.start()
    try:
        admitted_at = time.monotonic()  # access checked, then (say) kicked on another worker
        channel, _ = await open_channel(hub)
        assert channel.listening_since > admitted_at
        assert (
            hub.recent_history(ROOM, admitted_at=admitted_at, since=1, since_rev=None, newest=50, replay=1000)
            is None
        )
        # Admitted once the channel hears the room: any later end reaches it.
        later = hub.recent_history(
            ROOM, admitted_at=time.monotonic(), since=1, since_rev=None, newest=50, replay=1000
        )
        assert later is not None and (later.messages, later.last_seq) == ([], 1)
    finally:
        await hub.stop(grace=1)


async def test_closes_are_remembered_for_a_while_then_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    hub = make_hub(FakeDatabase())
    clock = [1000.0]
    monkeypatch.setattr(hub_module.time, "monotonic", lambda: clock[0])
    for user_id in range(1, 501):  # a mass disable: each close costs the same
        hub.deliver(Envelope(Kind.CLOSE, user_id=user_id, close="account_disabled"))
    assert len(hub._recent_closes) == 500
    clock[0] += hub_module.CLOSE_MEMORY_SECONDS / 2
    hub.deliver(Envelope(Kind.CLOSE, user_id=1, close="token_revoked", credential="login"))
    clock[0] += hub_module.CLOSE_MEMORY_SECONDS / 2 + 1
    hub.deliver(Envelope(Kind.CLOSE, user_id=9999, close="account_disabled"))
    # The first burst has expired; user 1's later close and the newest one are kept.
    assert set(hub._recent_closes) == {("user", 1), ("user", 9999)}
    assert hub._recent_closes[("user", 1)][-1][2].reason == "token_revoked"
