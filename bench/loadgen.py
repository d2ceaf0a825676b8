"""The load generator: picows WebSocket clients on uvloop, cheap per received frame.

Every client is a `Client` (a picows listener): it parses each text frame once with
orjson, checks that message seqs arrive consecutively, and hands message receipts to
the phase's `Recorder`, which keeps the send time of every nonce it is waiting for and
the send-to-receipt latency of each delivery.
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
    url: str, recorder: Recorder, *, index: int = 0, within: float = 120, small_buffer: bool = False
) -> Client:
    """A client whose history frame has arrived."""
    _, client = await ws_connect(
        lambda: Client(recorder, index),
        url,
        websocket_handshake_timeout=within,
        socket_factory=_small_receive_buffer if small_buffer else None,
    )
    assert isinstance(client, Client)
    await asyncio.wait_for(asyncio.shield(client.ready), within)
    return client


async def connect_many(urls: Sequence[str], recorder: Recorder, *, concurrency: int = 64) -> list[Client]:
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int, url: str) -> Client:
        async with gate:
            return await connect(url, recorder, index=index)

    clients = await asyncio.gather(*(one(i, url) for i, url in enumerate(urls)))
    return list(clients)


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
