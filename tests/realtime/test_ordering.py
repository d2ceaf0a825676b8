"""The hub's ordering: early messages wait, duplicates drop, gaps are filled from the database."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from api.auth.schemas import UserSummary
from api.messages.schemas import MessagePublic
from api.realtime.brokers.memory import MemoryBroker
from api.realtime.envelope import Envelope, Kind
from api.realtime.hub import Hub, MessageSource, RoomChannel
from api.realtime.presence import MemoryPresence

ADA = UserSummary(id=1, username="ada", display_name="Ada")


@dataclass(eq=False)
class Recorder:
    """Stands in for a Connection: records what fan-out pushes."""

    user: UserSummary = field(default_factory=lambda: ADA)
    seqs: list[int] = field(default_factory=list)

    def push(self, frame: object, seq: int = 0) -> None:
        self.seqs.append(seq)

    def close(self, reason: object) -> None:
        pass

    async def wait_drained(self) -> None:
        pass


def message(seq: int) -> MessagePublic:
    return MessagePublic(
        id=seq,
        room_id=7,
        seq=seq,
        author=ADA,
        body=f"m{seq}",
        created_at=datetime.now(UTC),
        edited_at=None,
        deleted=False,
    )


async def test_early_messages_wait_and_duplicates_drop() -> None:
    channel = RoomChannel(7)
    recorder = Recorder()
    channel.connections.add(recorder)  # type: ignore[arg-type]
    assert channel.offer(3, "m3") is False  # not positioned yet: buffered, no gap timer
    channel.start_at(2)
    assert channel.offer(4, "m4") is True  # 2 is missing
    assert recorder.seqs == []
    assert channel.offer(2, "m2") is False
    assert recorder.seqs == [2, 3, 4]
    channel.offer(3, "again")
    channel.offer(1, "old")
    assert recorder.seqs == [2, 3, 4]


class FakeSource:
    def __init__(self, stored: int) -> None:
        self.stored = stored
        self.reads: list[tuple[int, int]] = []

    async def last_seq(self, room_id: int) -> int | None:
        return self.stored

    async def between(
        self, room_id: int, first: int, last: int
    ) -> Sequence[tuple[MessagePublic, str | None]]:
        self.reads.append((first, last))
        return [(message(seq), None) for seq in range(first, min(last, self.stored) + 1)]


def make_hub(source: FakeSource) -> Hub:
    return Hub(
        broker=MemoryBroker(),
        presence=MemoryPresence(),
        source=MessageSource(last_seq=source.last_seq, between=source.between),
        queue_frames=100,
        gap_fill_seconds=0.05,
        presence_refresh_seconds=60,
    )


async def open_channel(hub: Hub, room_id: int) -> tuple[RoomChannel, Recorder]:
    channel = await hub._open_channel(room_id)
    recorder = Recorder()
    channel.connections.add(recorder)  # type: ignore[arg-type]
    return channel, recorder


async def test_a_gap_that_is_not_filled_in_time_is_read_from_the_database() -> None:
    source = FakeSource(stored=10)
    hub = make_hub(source)
    await hub.start()
    try:
        _, recorder = await open_channel(hub, 7)
        source.stored = 14
        # 11 and 12 were published by a worker whose envelopes got lost; 13 and 14 arrive.
        for seq in (13, 14):
            hub.deliver(Envelope(Kind.MESSAGE, 7, f"m{seq}", seq=seq))
        assert recorder.seqs == []
        await asyncio.sleep(0.2)
        assert source.reads == [(11, 12)]
        assert recorder.seqs == [11, 12, 13, 14]
    finally:
        await hub.stop(grace=1)


async def test_a_gap_filled_in_time_costs_no_read() -> None:
    source = FakeSource(stored=0)
    hub = make_hub(source)
    await hub.start()
    try:
        _, recorder = await open_channel(hub, 7)
        hub.deliver(Envelope(Kind.MESSAGE, 7, "m2", seq=2))
        hub.deliver(Envelope(Kind.MESSAGE, 7, "m1", seq=1))
        await asyncio.sleep(0.15)
        assert recorder.seqs == [1, 2]
        assert source.reads == []
    finally:
        await hub.stop(grace=1)


async def test_catching_up_after_an_outage_delivers_what_was_stored() -> None:
    source = FakeSource(stored=5)
    hub = make_hub(source)
    await hub.start()
    try:
        _, recorder = await open_channel(hub, 7)
        source.stored = 9  # stored by other workers while the broker was down
        await hub._catch_up()
        assert recorder.seqs == [6, 7, 8, 9]
        hub.deliver(Envelope(Kind.MESSAGE, 7, "m9", seq=9))  # a late duplicate
        hub.deliver(Envelope(Kind.MESSAGE, 7, "m10", seq=10))
        assert recorder.seqs == [6, 7, 8, 9, 10]
    finally:
        await hub.stop(grace=1)


def test_envelopes_survive_the_wire() -> None:
    envelope = Envelope(
        Kind.CLOSE_USER, 3, '{"type": "x", "s": "line\\nbreak é"}', seq=0, user_id=9, close="removed"
    )
    decoded = Envelope.decode(envelope.encode())
    assert decoded == envelope
