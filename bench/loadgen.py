"""The load generator: picows WebSocket clients on uvloop, cheap per received frame.

Every client is a `Client` (a picows listener): it parses each text frame once with
orjson, checks that message seqs arrive consecutively, and hands message receipts to
the phase's `Recorder`, which keeps the send time of every nonce it is waiting for and
the send-to-receipt latency of each delivery.

A `MultiClient` is one `/ws` connection: `ready` is its "connected", it subscribes to
several rooms in one frame, and keeps the same checks per room (`RoomStream`), for
message frames and for `activity` frames alike.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import random
import resource
import socket
import struct
import time
from array import array
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from picows import WSCloseCode, WSFrame, WSListener, WSMsgType, WSTransport, ws_connect
from picows.url import WSParsedURL

logger = logging.getLogger(__name__)

perf = time.perf_counter
_nonces = itertools.count(1)
BODY = "benchmark message with a body of a realistic length for a chat, about sixty chars"
SLOW_RCVBUF = 4096
SLOW_MSS = 1460
MESSAGE_PREFIX = b'{"type":"message"'
ROOM_MESSAGE_PREFIX = b'{"type":"message","room_id":'
ACTIVITY_PREFIX = b'{"type":"activity","room_id":'
SEQ_KEY = b'"seq":'
NONCE_KEY = b'"nonce":"'


class Traffic:
    """Every frame every client received: used to wait until setup chatter settles."""

    frames = 0


class Recorder:
    """One phase's bookkeeping: what was sent, who still has to receive it, and latencies."""

    def __init__(self, *, record_latency: bool = True, keep_send_times: bool = False) -> None:
        self.record_latency = record_latency
        self.keep_send_times = keep_send_times
        self.latencies = array("d")
        self.send_times = array("d")  # beside `latencies`, when `keep_send_times`
        self.sent_at: dict[str, float] = {}
        self.expected: dict[str, int] = {}
        self.sent = 0
        self.deliveries = 0
        self.completed = 0
        self.first_send = 0.0
        self.last_receipt = 0.0
        self.window: asyncio.Semaphore | None = None
        self._drained = asyncio.Event()
        self._drained.set()

    def expect(self, nonce: str, receivers: int) -> None:
        now = perf()
        if not self.sent:
            self.first_send = now
        self.sent += 1
        self.sent_at[nonce] = now
        self.expected[nonce] = receivers
        self._drained.clear()

    def receipt(self, nonce: str, now: float) -> None:
        left = self.expected.get(nonce)
        if left is None:
            return
        self.deliveries += 1
        self.last_receipt = now
        if self.record_latency:
            sent = self.sent_at[nonce]
            self.latencies.append(now - sent)
            if self.keep_send_times:
                self.send_times.append(sent)
        if left > 1:
            self.expected[nonce] = left - 1
            return
        del self.expected[nonce]
        del self.sent_at[nonce]
        self.completed += 1
        if self.window is not None:
            self.window.release()
        if not self.expected:
            self._drained.set()

    async def drain(self, within: float, limit: float = 600.0) -> bool:
        """Wait until every expected receipt arrived, as long as receipts keep coming (none
        for `within` seconds, or `limit` in all, ends the wait); False when some never did."""
        deadline = perf() + limit
        while perf() < deadline:
            before = self.deliveries
            try:
                await asyncio.wait_for(self._drained.wait(), within)
            except TimeoutError:
                if self.deliveries == before:
                    return False
                continue
            return True
        return False

    @property
    def missing(self) -> int:
        return sum(self.expected.values())


def activity_key(room_id: int, seq: int) -> str:
    return f"{room_id}:{seq}"


class SeqRecorder(Recorder):
    """A Recorder for frames that carry no nonce (`activity`): the k-th message sent is
    expected as seq `first_seq + k` of `room_id`. That holds for one sender on one
    connection, whose sends the server stores in the order it reads them; a message
    stored out of that order (or not at all) leaves receipts missing, and the phase fails."""

    def __init__(self, room_id: int, first_seq: int, **kwargs: bool) -> None:
        super().__init__(**kwargs)
        self.room_id = room_id
        self.next_seq = first_seq

    def expect(self, nonce: str, receivers: int) -> None:
        super().expect(activity_key(self.room_id, self.next_seq), receivers)
        self.next_seq += 1


def _close_payload(payload: bytes) -> tuple[int, str]:
    if len(payload) < 2:
        return 1005, ""
    return struct.unpack("!H", payload[:2])[0], payload[2:].decode(errors="replace")


class Client(WSListener):
    """One WebSocket connection to a room."""

    def __init__(self, recorder: Recorder, index: int) -> None:
        self.recorder = recorder
        self.index = index
        self.transport: WSTransport | None = None
        loop = asyncio.get_running_loop()
        self.ready: asyncio.Future[float] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.history_messages = 0
        self.history_last_seq = 0
        self.next_seq: int | None = None
        self.first_seq = 0
        self.messages = 0
        self.gaps = 0
        self.disorder = 0
        self.errors = 0
        self.close_code: int | None = None
        self.close_reason = ""
        self.outstanding: set[str] = set()
        self.acked = 0
        self.pong: asyncio.Future[float] | None = None
        # For a relay that numbers nothing itself: the sender numbers its messages.
        self.numbered = False
        self._sent_seq = 0
        self._parts: list[bytes] = []

    # --- picows callbacks ----------------------------------------------------

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"closed before history: {self.close_code}"))
        if not self.closed.done():
            self.closed.set_result(None)

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        now = perf()
        Traffic.frames += 1
        kind = frame.msg_type
        if kind is WSMsgType.TEXT:
            if frame.fin:
                data = frame.get_payload_as_bytes()
                if data.startswith(MESSAGE_PREFIX):
                    self._message(data, now)
                else:
                    self._handle(orjson.loads(data), now)
            else:
                self._parts = [frame.get_payload_as_bytes()]
        elif kind is WSMsgType.CONTINUATION:
            self._parts.append(frame.get_payload_as_bytes())
            if frame.fin:
                data, self._parts = b"".join(self._parts), []
                self._handle(orjson.loads(data), now)
        elif kind is WSMsgType.CLOSE:
            self.close_code, self.close_reason = _close_payload(frame.get_payload_as_bytes())
            transport.send_close(WSCloseCode.OK)
            transport.disconnect()

    def _message(self, data: bytes, now: float) -> None:
        """A `message` frame, read without a full JSON parse: its seq and its nonce.

        Both servers serialize with orjson, keys in a fixed order and no spaces, and a
        body cannot contain an unescaped quote, so the first `"seq":` is the message's
        and the last `"nonce":"` is the frame's."""
        start = data.index(SEQ_KEY) + 6
        seq = int(data[start : data.index(b",", start)])
        expected = self.next_seq
        if expected is not None and seq != expected:
            if seq > expected:
                self.gaps += seq - expected
            else:
                self.disorder += 1
        self.next_seq = seq + 1
        self.messages += 1
        at = data.rfind(NONCE_KEY)
        if at < 0:
            return  # a message without a nonce: not one of ours
        nonce = data[at + 9 : data.index(b'"', at + 9)].decode()
        if nonce in self.outstanding:
            self.outstanding.discard(nonce)
            self.acked += 1
        self.recorder.receipt(nonce, now)

    def _handle(self, frame: dict[str, Any], now: float) -> None:
        kind = frame["type"]
        if kind == "message":
            self._message(orjson.dumps(frame), now)
        elif kind == "history":
            self.history_messages = len(frame["messages"])
            self.history_last_seq = frame["last_seq"]
            self.next_seq = self.first_seq = self.history_last_seq + 1
            if not self.ready.done():
                self.ready.set_result(now)
        elif kind == "pong":
            if self.pong is not None and not self.pong.done():
                self.pong.set_result(now)
        elif kind == "error":
            self.errors += 1
            if self.errors <= 3:
                logger.warning("client %d got an error frame: %s", self.index, frame)

    # --- actions ----------------------------------------------------------------

    def send_message(self, nonce: str) -> None:
        assert self.transport is not None
        frame: dict[str, Any] = {"type": "message", "body": BODY, "nonce": nonce}
        if self.numbered:
            self._sent_seq += 1
            frame = {"type": "message", "seq": self._sent_seq, "body": BODY, "nonce": nonce}
        self.transport.send(WSMsgType.TEXT, orjson.dumps(frame))

    async def ping(self) -> float:
        """One application-level round trip (`ping` → `pong`), in seconds."""
        assert self.transport is not None
        self.pong = asyncio.get_running_loop().create_future()
        start = perf()
        self.transport.send(WSMsgType.TEXT, b'{"type":"ping"}')
        return await self.pong - start

    def pause_reading(self) -> None:
        assert self.transport is not None
        self.transport.underlying_transport.pause_reading()

    def resume_reading(self) -> None:
        assert self.transport is not None
        self.transport.underlying_transport.resume_reading()

    @property
    def local_port(self) -> int:
        assert self.transport is not None
        port: int = self.transport.underlying_transport.get_extra_info("sockname")[1]
        return port

    def received_all(self, last_seq: int) -> bool:
        """Every message from its first live seq to `last_seq`, once each, in order."""
        return (
            not self.gaps
            and not self.disorder
            and self.next_seq == last_seq + 1
            and self.messages == last_seq - self.first_seq + 1
        )

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_disconnected:
            self.transport.send_close(WSCloseCode.OK)
            self.transport.disconnect()


@dataclass(slots=True)
class RoomStream:
    """What one `/ws` connection received of one room: its subscription's history and
    message frames (seqs consecutive, as on a room socket), or its `activity` frames."""

    subscribed: asyncio.Future[float] | None = None  # the presence frame's arrival
    leaving: asyncio.Future[float] | None = None  # the `unsubscribed` frame we asked for
    live: bool = False  # between history and an `unsubscribed`
    history_messages: int = 0
    history_last_seq: int = 0
    first_seq: int = 0
    next_seq: int | None = None
    messages: int = 0
    gaps: int = 0
    disorder: int = 0
    activity: int = 0
    activity_first: int = 0
    activity_next: int | None = None
    activity_gaps: int = 0
    activity_disorder: int = 0
    activity_while_live: int = 0  # the server owes a subscriber message frames, not activity
    ended: str = ""  # the reason of an `unsubscribed` nobody asked for

    def received_all(self, last_seq: int) -> bool:
        """Every message from the first live seq to `last_seq`, once each, in order."""
        return (
            not self.gaps
            and not self.disorder
            and self.next_seq == last_seq + 1
            and self.messages == last_seq - self.first_seq + 1
        )

    def heard_all(self, first_seq: int, last_seq: int) -> bool:
        """An `activity` frame for every seq from `first_seq` to `last_seq`, once each, in order."""
        return (
            not self.activity_gaps
            and not self.activity_disorder
            and not self.activity_while_live
            and self.activity_first == first_seq
            and self.activity_next == last_seq + 1
            and self.activity == last_seq - first_seq + 1
        )


class MultiClient(Client):
    """One `/ws` connection: `ready` is "connected"; rooms are subscribed in one frame.

    Message and `activity` frames are read without a full JSON parse: both start with
    their `room_id`, and the first `"seq":` after it is the message's (the message
    object's own `room_id` and `id` precede its seq; a body cannot hold an unescaped
    quote). Other frames go through orjson, as on a room socket."""

    def __init__(self, recorder: Recorder, index: int) -> None:
        super().__init__(recorder, index)
        self.streams: dict[int, RoomStream] = {}
        self.send_room = 0  # the room `send_message` sends to
        self.user_id = 0
        self.activity = 0
        self.strays = 0  # message frames of a room not subscribed
        self.ended = 0  # subscriptions the server ended or refused unasked

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        super().on_ws_disconnected(transport)
        gone = ConnectionError(f"closed: {self.close_code} {self.close_reason}")
        for stream in self.streams.values():
            for waiting in (stream.subscribed, stream.leaving):
                if waiting is not None and not waiting.done():
                    waiting.set_exception(gone)

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        now = perf()
        Traffic.frames += 1
        kind = frame.msg_type
        if kind is WSMsgType.TEXT:
            if frame.fin:
                data = frame.get_payload_as_bytes()
                if data.startswith(ROOM_MESSAGE_PREFIX):
                    self._message(data, now)
                elif data.startswith(ACTIVITY_PREFIX):
                    self._activity(data, now)
                else:
                    self._handle(orjson.loads(data), now)
            else:
                self._parts = [frame.get_payload_as_bytes()]
        elif kind is WSMsgType.CONTINUATION:
            self._parts.append(frame.get_payload_as_bytes())
            if frame.fin:
                data, self._parts = b"".join(self._parts), []
                self._handle(orjson.loads(data), now)
        elif kind is WSMsgType.CLOSE:
            self.close_code, self.close_reason = _close_payload(frame.get_payload_as_bytes())
            transport.send_close(WSCloseCode.OK)
            transport.disconnect()

    def _message(self, data: bytes, now: float) -> None:
        start = len(ROOM_MESSAGE_PREFIX)
        end = data.index(b",", start)
        stream = self.streams.get(int(data[start:end]))
        if stream is None or not stream.live:
            self.strays += 1
            return
        at = data.index(SEQ_KEY, end) + 6
        seq = int(data[at : data.index(b",", at)])
        expected = stream.next_seq
        if expected is not None and seq != expected:
            if seq > expected:
                stream.gaps += seq - expected
            else:
                stream.disorder += 1
        stream.next_seq = seq + 1
        stream.messages += 1
        self.messages += 1
        at = data.rfind(NONCE_KEY)
        if at < 0:
            return
        nonce = data[at + 9 : data.index(b'"', at + 9)].decode()
        if nonce in self.outstanding:
            self.outstanding.discard(nonce)
            self.acked += 1
        self.recorder.receipt(nonce, now)

    def _activity(self, data: bytes, now: float) -> None:
        start = len(ACTIVITY_PREFIX)
        end = data.index(b",", start)
        room_id = int(data[start:end])
        at = data.index(SEQ_KEY, end) + 6
        seq = int(data[at : data.index(b",", at)])
        stream = self.streams.get(room_id)
        if stream is None:
            stream = self.streams[room_id] = RoomStream()
        elif stream.live:
            stream.activity_while_live += 1
        expected = stream.activity_next
        if expected is None:
            stream.activity_first = seq
        elif seq != expected:
            if seq > expected:
                stream.activity_gaps += seq - expected
            else:
                stream.activity_disorder += 1
        stream.activity_next = seq + 1
        stream.activity += 1
        self.activity += 1
        self.recorder.receipt(activity_key(room_id, seq), now)

    def _handle(self, frame: dict[str, Any], now: float) -> None:
        kind = frame["type"]
        if kind == "history":
            stream = self.streams.get(frame["room_id"])
            if stream is None:
                self.strays += 1
                return
            stream.history_messages = len(frame["messages"])
            stream.history_last_seq = frame["last_seq"]
            stream.next_seq = stream.first_seq = stream.history_last_seq + 1
            stream.messages = stream.gaps = stream.disorder = 0
            stream.live = True
        elif kind == "presence":
            stream = self.streams.get(frame["room_id"])
            waiting = stream.subscribed if stream is not None else None
            if waiting is not None and not waiting.done():
                if stream is not None and stream.live:
                    waiting.set_result(now)
                else:
                    waiting.set_exception(RuntimeError(f"presence before history: {frame['room_id']}"))
        elif kind == "unsubscribed":
            self._unsubscribed(frame["room_id"], frame["reason"], now)
        elif kind == "ready":
            self.user_id = frame["user"]["id"]
            if not self.ready.done():
                self.ready.set_result(now)
        else:
            super()._handle(frame, now)

    def _unsubscribed(self, room_id: int, reason: str, now: float) -> None:
        stream = self.streams.get(room_id)
        if stream is None:
            self.ended += 1
            logger.warning(
                "client %d: unsubscribed from %s (%s), never subscribed", self.index, room_id, reason
            )
            return
        stream.live = False
        if stream.leaving is not None and not stream.leaving.done() and reason == "unsubscribed":
            stream.leaving.set_result(now)
            return
        self.ended += 1
        stream.ended = reason
        if stream.subscribed is not None and not stream.subscribed.done():
            stream.subscribed.set_exception(RuntimeError(f"room {room_id} refused: {reason}"))
        elif self.ended <= 3:
            logger.warning("client %d: room %s ended: %s", self.index, room_id, reason)

    # --- actions ----------------------------------------------------------------

    def send_message(self, nonce: str) -> None:
        assert self.transport is not None
        frame = {"type": "message", "room_id": self.send_room, "body": BODY, "nonce": nonce}
        self.transport.send(WSMsgType.TEXT, orjson.dumps(frame))

    async def subscribe(self, room_ids: Sequence[int], *, within: float = 120) -> float:
        """Subscribe to `room_ids` in one frame; when the last of their presence frames came,
        each after its history (a refused room raises)."""
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        waiting = []
        for room_id in room_ids:
            stream = self.streams[room_id] = RoomStream(subscribed=loop.create_future())
            assert stream.subscribed is not None
            waiting.append(stream.subscribed)
        rooms = [{"room_id": room_id} for room_id in room_ids]
        self.transport.send(WSMsgType.TEXT, orjson.dumps({"type": "subscribe", "rooms": rooms}))
        arrived = await asyncio.wait_for(asyncio.gather(*waiting), within)
        return max(arrived)

    async def unsubscribe(self, room_ids: Sequence[int], *, within: float = 60) -> None:
        """One `unsubscribe` frame per room; until each is answered `unsubscribed`."""
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        waiting = []
        for room_id in room_ids:
            stream = self.streams.setdefault(room_id, RoomStream())
            stream.leaving = loop.create_future()
            waiting.append(stream.leaving)
            frame = orjson.dumps({"type": "unsubscribe", "room_id": room_id})
            self.transport.send(WSMsgType.TEXT, frame)
        await asyncio.wait_for(asyncio.gather(*waiting), within)

    def stream(self, room_id: int) -> RoomStream:
        return self.streams.get(room_id) or RoomStream()


def _small_receive_buffer(url: WSParsedURL) -> socket.socket:
    """A socket that makes a stalled reader look like one across a real network.

    On loopback the MSS is 64 KiB and the server's send buffer starts at about 4 MiB,
    which would swallow minutes of frames before the server noticed anything. A small
    receive buffer and an Ethernet-sized MSS (announced in our SYN) make the server's
    kernel buffer what it would be for a remote client: a few tens of KiB.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SLOW_RCVBUF)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, SLOW_MSS)
    return sock


async def connect(
    url: str,
    recorder: Recorder,
    *,
    index: int = 0,
    within: float = 120,
    small_buffer: bool = False,
    factory: type[Client] = Client,
) -> Client:
    """A client whose history frame (for a `MultiClient`: its `ready` frame) has arrived."""
    _, client = await ws_connect(
        lambda: factory(recorder, index),
        url,
        websocket_handshake_timeout=within,
        socket_factory=_small_receive_buffer if small_buffer else None,
    )
    assert isinstance(client, factory)
    await asyncio.wait_for(asyncio.shield(client.ready), within)
    return client


async def connect_many(
    urls: Sequence[str], recorder: Recorder, *, concurrency: int = 64, factory: type[Client] = Client
) -> list[Client]:
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int, url: str) -> Client:
        async with gate:
            return await connect(url, recorder, index=index, factory=factory)

    clients = await asyncio.gather(*(one(i, url) for i, url in enumerate(urls)))
    return list(clients)


async def connect_subscribed(
    urls: Sequence[str], rooms: Sequence[Sequence[int]], recorder: Recorder, *, concurrency: int = 64
) -> list[MultiClient]:
    """`/ws` clients, the i-th subscribed to `rooms[i]` in one frame (none when empty), with
    every history and presence frame in."""
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int, url: str) -> MultiClient:
        async with gate:
            client = await connect(url, recorder, index=index, factory=MultiClient)
            assert isinstance(client, MultiClient)
            if rooms[index]:
                await client.subscribe(rooms[index])
            return client

    return list(await asyncio.gather(*(one(i, url) for i, url in enumerate(urls))))


async def close_all(clients: Sequence[Client], within: float = 10) -> None:
    for client in clients:
        client.close()
    waiting = [client.closed for client in clients if not client.closed.done()]
    if waiting:
        await asyncio.wait(waiting, timeout=within)


async def settle(quiet: float = 0.5, limit: float = 120) -> None:
    """Wait until no client has received a frame for `quiet` seconds (join/presence chatter)."""
    deadline = perf() + limit
    last = -1
    while perf() < deadline:
        if Traffic.frames == last:
            return
        last = Traffic.frames
        await asyncio.sleep(quiet)


def next_nonce() -> str:
    return f"n{next(_nonces)}"


def use_recorder(clients: Sequence[Client], recorder: Recorder) -> None:
    for client in clients:
        client.recorder = recorder


# --- senders -------------------------------------------------------------------


async def paced(
    senders: Sequence[Client], recorder: Recorder, *, rate: float, duration: float, receivers: int
) -> None:
    """`rate` messages a second in total, round robin over `senders`, for `duration` seconds."""
    start = perf()
    for i in itertools.count():
        due = start + i / rate
        if due >= start + duration:
            return
        delay = due - perf()
        if delay > 0:
            await asyncio.sleep(delay)
        nonce = next_nonce()
        recorder.expect(nonce, receivers)
        senders[i % len(senders)].send_message(nonce)


async def saturate(
    senders: Sequence[Client],
    recorder: Recorder,
    *,
    duration: float,
    window: int,
    receivers: int,
    per_connection_rate: float,
) -> None:
    """As fast as the server delivers: at most `window` messages not yet received by every
    receiver; each sender stays under the server's per-connection frame limit."""
    recorder.window = window_gate = asyncio.Semaphore(window)
    end = perf() + duration
    gap = 1 / per_connection_rate

    async def run(sender: Client) -> None:
        next_send = perf()
        while True:
            await window_gate.acquire()
            delay = next_send - perf()
            if delay > 0:
                await asyncio.sleep(delay)
            now = perf()
            if now >= end:
                window_gate.release()
                return
            next_send = max(next_send + gap, now)
            nonce = next_nonce()
            recorder.expect(nonce, receivers)
            sender.send_message(nonce)

    await asyncio.gather(*(run(sender) for sender in senders))


@dataclass(slots=True)
class SteadyResult:
    sent: int = 0
    skipped: int = 0  # ticks where the previous message was not yet back: the server lagged


async def steady(
    clients: Sequence[Client],
    recorder: Recorder,
    *,
    rate: float,
    duration: float,
    receivers: Callable[[Client], int],
) -> SteadyResult:
    """Every client sends `rate` messages a second, at most one outstanding at a time."""
    result = SteadyResult()
    interval = 1 / rate
    end = perf() + duration

    async def run(client: Client) -> None:
        due = perf() + random.random() * interval
        while True:
            delay = due - perf()
            if delay > 0:
                await asyncio.sleep(delay)
            if perf() >= end:
                return
            due += interval
            if client.outstanding:
                result.skipped += 1
                continue
            nonce = next_nonce()
            client.outstanding.add(nonce)
            recorder.expect(nonce, receivers(client))
            client.send_message(nonce)
            result.sent += 1

    await asyncio.gather(*(run(client) for client in clients))
    return result


# --- measuring ---------------------------------------------------------------------


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_queue_wait(pid: int | str = "self") -> float:
    """Seconds the process's main thread has spent runnable but waiting for a CPU (Linux)."""
    try:
        with open(f"/proc/{pid}/schedstat") as stats:
            return int(stats.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return math.nan


@dataclass(frozen=True, slots=True)
class CpuUse:
    wall: float
    server: float  # percent of one core
    loadgen: float
    server_starved: float  # percent of the time the server's event loop waited for its core


class CpuMeter:
    """CPU used by the server process and by this load generator over a phase, and how long
    the server's event loop thread was ready to run but had no CPU (other processes had it)."""

    def __init__(self, server_cpu: Callable[[], float], server_pid: int = 0) -> None:
        self._server_cpu = server_cpu
        self._pid = server_pid
        self._start = (perf(), server_cpu(), own_cpu_seconds(), self._wait())

    def _wait(self) -> float:
        return run_queue_wait(self._pid) if self._pid else math.nan

    def read(self) -> CpuUse:
        wall = perf() - self._start[0]
        server = self._server_cpu() - self._start[1]
        own = own_cpu_seconds() - self._start[2]
        starved = self._wait() - self._start[3]
        return CpuUse(wall, 100 * server / wall, 100 * own / wall, 100 * starved / wall)


class Sampler:
    """Calls `probe` every `interval` seconds in the background, keeping (time, value)."""

    def __init__(self, probe: Callable[[], Awaitable[float] | float], interval: float = 0.25) -> None:
        self.samples: list[tuple[float, float]] = []
        self._probe = probe
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    def start(self) -> Sampler:
        self._task = asyncio.create_task(self._run())
        return self

    async def _run(self) -> None:
        while True:
            value = self._probe()
            if not isinstance(value, int | float):
                value = await value
            self.samples.append((perf(), float(value)))
            await asyncio.sleep(self._interval)

    async def stop(self) -> list[tuple[float, float]]:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        return self.samples
