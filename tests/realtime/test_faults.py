"""Faults a deployment meets, tried from outside: two `hubbub serve` processes on PostgreSQL
(behind a proxy the test can cut) and a private Redis (which the test can kill), and
clients that follow the SPEC (tests/realtime/followers.py). Nothing is lost: every change
reaches every client once, in rev order, and every acknowledged message is stored once.

One deployment serves every test here; each test leaves it whole again. Each test records
what it counted (`record_property("fault counts", ...)`), which the terminal summary shows
(tests/realtime/conftest.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx
import pytest
from sqlalchemy import make_url

from tests.conftest import MigratedDatabase, unavailable
from tests.factories import Account, create_room, join, signup
from tests.realtime.client import Client, joined, multiplexed
from tests.realtime.conftest import FAULT_COUNTS
from tests.realtime.followers import Follower, judge, room_in_database
from tests.servers import PrivateRedis, ProxyThread, ServerProcess

pytestmark = pytest.mark.multiworker

PRESENCE_TTL = 3.0
SEND_BURST = 30
# How long after a fault ends everything must have arrived: the broker's reconnect backoff
# (at most a few seconds for outages this short), then one read of the database.
RECOVERY_BOUND = 15.0
DATABASE_OUTAGE = 2.0
Record = Callable[[str, object], None]


@dataclass
class Deployment:
    a: ServerProcess
    b: ServerProcess
    redis: PrivateRedis
    proxy: ProxyThread
    admin_dsn: str
    log_offsets: dict[Path, int] = field(default_factory=dict)

    @property
    def workers(self) -> tuple[ServerProcess, ServerProcess]:
        return self.a, self.b

    def new_log(self) -> str:
        """What the workers logged since the last call."""
        text = ""
        for worker in self.workers:
            assert worker.log is not None
            with open(worker.log, "rb") as log:
                log.seek(self.log_offsets.get(worker.log, 0))
                text += log.read().decode(errors="replace")
                self.log_offsets[worker.log] = log.tell()
        return text


@pytest.fixture(scope="module")
def deployment(
    test_database: MigratedDatabase, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    if test_database.kind != "postgresql":
        pytest.skip("the fault tests run on PostgreSQL (--db postgresql)")
    asyncio.run(test_database.clean())
    directory = tmp_path_factory.mktemp("faults")
    redis = PrivateRedis(directory)
    try:
        redis.start()
    except FileNotFoundError as exc:
        unavailable(f"a private Redis ({exc})")
    url = make_url(test_database.template_url)
    proxy = ProxyThread(url.host or "127.0.0.1", url.port or 5432)
    proxy.start()
    env = {
        "DATABASE_URL": url.set(port=proxy.port).render_as_string(hide_password=False),
        "BROKER_URL": redis.url,
        "SECRET_KEY": "faults-" + "k" * 40,
        "DATA_DIR": str(directory / "var"),
        "PASSWORD_MEMORY_KIB": "64",
        "PASSWORD_TIME_COST": "1",
        "LOG_LEVEL": "WARNING",
        "SEND_RATE": "20",
        "SEND_BURST": str(SEND_BURST),
        "SIGNUP_PER_HOUR": "1000",
        "WS_FRAMES_PER_SECOND": "1000",
        "PRESENCE_TTL_SECONDS": str(PRESENCE_TTL),
        "GAP_FILL_SECONDS": "0.3",
        "SHUTDOWN_GRACE_SECONDS": "2",
    }
    a = ServerProcess(env, log=directory / "worker-a.log")
    b = ServerProcess(env, log=directory / "worker-b.log")
    admin_dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        a.start()
        b.start()
        yield Deployment(a, b, redis, proxy, admin_dsn)
    finally:
        for worker in (a, b):
            worker.stop()
        proxy.close()
        redis.kill()


@pytest.fixture
async def whole(deployment: Deployment) -> AsyncIterator[Deployment]:
    """The deployment with both workers up and ready; afterwards, their logs are clean."""
    if not deployment.redis.running:
        deployment.redis.start()
    if deployment.proxy.is_cut:
        deployment.proxy.restore()
    for worker in deployment.workers:
        if not worker.running:
            await asyncio.to_thread(worker.start)
    await ready(*deployment.workers)
    deployment.new_log()
    yield deployment
    log = deployment.new_log()
    for sign in ("Task exception was never retrieved", "Exception in ASGI application"):
        assert sign not in log, log


async def ready(*workers: ServerProcess, timeout: float = RECOVERY_BOUND) -> None:
    """Every worker answers /readyz with 200: database and broker reachable."""
    async with asyncio.timeout(timeout):
        for worker in workers:
            async with http_to(worker) as http:
                while True:
                    with contextlib.suppress(httpx.HTTPError):
                        if (await http.get("/readyz")).status_code == 200:
                            break
                    await asyncio.sleep(0.05)


async def unready(worker: ServerProcess, timeout: float = 10) -> None:
    async with asyncio.timeout(timeout), http_to(worker) as http:
        while True:
            if (await http.get("/readyz")).status_code != 200:
                return
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def http_to(worker: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=worker.http_url, timeout=10) as http:
        yield http


async def room_with(worker: ServerProcess, count: int) -> tuple[int, Account, list[Account]]:
    """A room, its owner, and `count` other members."""
    async with http_to(worker) as http:
        owner = await signup(http)
        room_id = (await create_room(http, owner))["id"]
        people = [await signup(http) for _ in range(count)]
        for person in people:
            await join(http, person, room_id)
    return room_id, owner, people


@contextlib.asynccontextmanager
async def following(
    room_id: int, people: Sequence[Account], homes: Sequence[Sequence[ServerProcess]]
) -> AsyncIterator[list[Follower]]:
    """A follower per person, alternating room sockets and /ws; each tries its `homes` in order."""
    followers = [
        Follower(f"f{index}", person, room_id, multiplexed=index % 2 == 1, workers=home)
        for index, (person, home) in enumerate(zip(people, homes, strict=True))
    ]
    try:
        for follower in followers:
            await follower.start()
        yield followers
    finally:
        for follower in followers:
            await follower.stop()


class Owner:
    """The room's owner, over HTTP: sends, edits and deletes its own messages through each
    worker in turn (or the one named), trying the next when one does not answer (it may be
    dead) or answers 5xx; its sends carry nonces, so a send tried again is stored once."""

    def __init__(self, account: Account, room_id: int, workers: Sequence[ServerProcess]) -> None:
        self.account = account
        self.room_id = room_id
        self.workers = list(workers)
        self.seqs: list[int] = []
        self.changes = 0
        self._turn = 0

    async def request(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, via: ServerProcess | None = None
    ) -> httpx.Response:
        self._turn += 1
        start = self._turn % len(self.workers)
        order = self.workers[start:] + self.workers[:start]
        if via is not None:
            order = [via, *(worker for worker in self.workers if worker is not via)]
        async with asyncio.timeout(30):
            while True:
                for worker in order:
                    with contextlib.suppress(httpx.TransportError):
                        async with http_to(worker) as http:
                            response = await http.request(
                                method, path, json=body, headers=self.account.headers
                            )
                        if response.status_code < 500:
                            return response
                await asyncio.sleep(0.1)

    async def send(self, body: str, *, via: ServerProcess | None = None) -> None:
        path = f"/api/rooms/{self.room_id}/messages"
        response = await self.request("POST", path, {"body": body, "nonce": f"owner-{body}"[:64]}, via=via)
        assert response.status_code in (200, 201), response.text
        self.seqs.append(response.json()["seq"])
        self.changes += 1

    async def edit(self, seq: int, body: str, *, via: ServerProcess | None = None) -> None:
        path = f"/api/rooms/{self.room_id}/messages/{seq}"
        response = await self.request("PATCH", path, {"body": body}, via=via)
        assert response.status_code == 200, response.text
        self.changes += 1

    async def delete(self, seq: int, *, via: ServerProcess | None = None) -> None:
        response = await self.request("DELETE", f"/api/rooms/{self.room_id}/messages/{seq}", via=via)
        assert response.status_code == 204, response.text
        self.changes += 1

    async def react(self, seq: int, emoji: str, *, add: bool, via: ServerProcess | None = None) -> None:
        path = f"/api/rooms/{self.room_id}/messages/{seq}/reactions/{quote(emoji, safe='')}"
        response = await self.request("PUT" if add else "DELETE", path, via=via)
        assert response.status_code in (200, 204), response.text
        self.changes += 1

    async def reactions(self, count: int) -> None:
        """`count` reactions added to and taken back from its messages, in turn."""
        for index in range(count):
            seq = self.seqs[index % len(self.seqs)]
            await self.react(seq, ("👍", "🎉", "🚀")[index % 3], add=index % 4 != 3)

    async def edits(self, count: int) -> None:
        """`count` edits of its own messages, in turn; the stream of edits in these tests."""
        for index in range(count):
            seq = self.seqs[index % len(self.seqs)]
            await self.edit(seq, f"owner's message {seq}, edit {index}")


async def everyone_caught_up(followers: Sequence[Follower], owner: Owner, timeout: float) -> float:
    """Wait until every follower has seen the room's last rev; the seconds it took."""
    started = time.monotonic()
    response = await owner.request("GET", f"/api/rooms/{owner.room_id}")
    last_rev = response.json()["last_rev"]
    for follower in followers:
        await follower.wait_until(lambda f=follower: f.last_rev >= last_rev, timeout=timeout)  # type: ignore[misc]
    return time.monotonic() - started


async def lost_rooms(client: Client, count: int = 1) -> dict[int, dict[str, str]]:
    """For each of `count` rooms a /ws client loses, the reasons of its `unsubscribed` and
    `room_removed` frames, which come in either order."""
    lost: dict[int, dict[str, str]] = {}
    async with asyncio.timeout(RECOVERY_BOUND):
        while len(lost) < count or any(len(reasons) < 2 for reasons in lost.values()):
            frame = await client.recv(RECOVERY_BOUND)
            if frame["type"] in ("unsubscribed", "room_removed"):
                lost.setdefault(frame["room_id"], {})[frame["type"]] = frame["reason"]
    return lost


async def judged(followers: Sequence[Follower], owner: Owner) -> dict[str, Any]:
    alive = next(worker for worker in owner.workers if worker.running)
    async with http_to(alive) as http:
        room = await room_in_database(http, owner.account, owner.room_id)
    return judge(followers, room)


async def test_sigkill_of_a_worker_loses_no_change(whole: Deployment, record_property: Record) -> None:
    """Messages, edits and reactions flow through both workers; A dies mid-stream. Its clients
    reconnect to B with since_rev and send again what was not acknowledged."""
    a, b = whole.workers
    room_id, owner_account, people = await room_with(b, 4)
    owner = Owner(owner_account, room_id, [b, a])
    for index in range(4):
        await owner.send(f"owner's message {index}")
    homes = [[a, b], [a, b], [b, a], [b, a]]
    async with following(room_id, people, homes) as followers:
        streams = [asyncio.create_task(f.stream(24)) for f in followers]
        edits = asyncio.create_task(owner.edits(16))
        reactions = asyncio.create_task(owner.reactions(12))
        await followers[0].wait_until(lambda: followers[0].counts.acknowledged >= 8, timeout=30)
        a.kill()
        killed_at = time.monotonic()
        await asyncio.gather(*streams, edits, reactions)
        caught_up = await everyone_caught_up(followers, owner, RECOVERY_BOUND)
        counts = await judged(followers, owner)
    assert [f.closes[0] for f in followers[:2]] == [(1006, "")] * 2  # no close frame: a dead worker
    assert all(f.worker is b for f in followers)
    counts |= {
        "owner_changes": owner.changes,
        "stream_finished_after_kill_s": round(time.monotonic() - killed_at, 3),
        "catch_up_after_stream_s": round(caught_up, 3),
    }
    record_property(FAULT_COUNTS, counts)
    assert counts["reconnects"] == 2


async def test_a_redis_restart_mid_stream_delivers_everything_and_enforces_the_kick(
    whole: Deployment, record_property: Record
) -> None:
    """Redis dies while messages, edits, deletes, reactions and a kick go through both workers; when it
    is back, every client has every change, and the kicked member's connections on the other
    worker are closed as they would have been."""
    a, b = whole.workers
    room_id, owner_account, people = await room_with(a, 5)
    *members, victim = people
    owner = Owner(owner_account, room_id, [a, b])
    homes = [[a, b], [a, b], [b, a], [b, a]]
    async with (
        following(room_id, members, homes) as followers,
        joined(b, victim, room_id) as victim_socket,  # type: ignore[arg-type]
        multiplexed(b, victim) as victim_ws,  # type: ignore[arg-type]
    ):
        await victim_ws.subscribe(room_id)
        for index in range(3):
            await owner.send(f"owner's message {index}")
        await asyncio.gather(*(f.stream(3) for f in followers))
        await everyone_caught_up(followers, owner, RECOVERY_BOUND)
        whole.redis.kill()
        await asyncio.gather(unready(a), unready(b))
        # While Redis is away: sends on both workers' sockets, and through both workers' REST.
        streams = [asyncio.create_task(f.stream(5)) for f in followers]
        await owner.send("through a, during", via=a)
        await owner.edit(owner.seqs[0], "edited through a, during", via=a)
        await owner.delete(owner.seqs[1], via=a)
        await owner.send("through b, during", via=b)
        await owner.edit(owner.seqs[2], "edited through b, during", via=b)
        await owner.delete(owner.seqs[-1], via=b)
        await owner.react(owner.seqs[0], "👀", add=True, via=a)
        await owner.react(owner.seqs[2], "👀", add=True, via=b)
        kicked = await owner.request("DELETE", f"/api/rooms/{room_id}/members/{victim.id}", via=a)
        assert kicked.status_code == 204, kicked.text
        await asyncio.gather(*streams)  # acknowledged by each worker's own delivery
        whole.redis.start()
        restarted = time.monotonic()
        assert await victim_socket.closed(timeout=RECOVERY_BOUND) == (1008, "removed")
        assert await lost_rooms(victim_ws) == {
            room_id: {"unsubscribed": "removed", "room_removed": "removed"}
        }
        kick_enforced = time.monotonic() - restarted
        await everyone_caught_up(followers, owner, RECOVERY_BOUND)
        caught_up = time.monotonic() - restarted
        counts = await judged(followers, owner)
        staying = {member.id for member in members}
        for follower in followers:
            wrong = [e["user"]["id"] for e in follower.events_of("leave") if e["user"]["id"] in staying]
            assert not wrong, f"{follower.name} was told that {wrong}, still here, left"
    counts |= {
        "owner_changes": owner.changes,
        "bound_s": RECOVERY_BOUND,
        "kick_enforced_after_restart_s": round(kick_enforced, 3),
        "caught_up_after_restart_s": round(caught_up, 3),
    }
    record_property(FAULT_COUNTS, counts)


async def test_presence_and_the_send_limit_come_back_whole_after_a_redis_restart(
    whole: Deployment, record_property: Record
) -> None:
    """People who stay connected through a Redis restart (which comes back empty) are online
    again, in members lists and in new connections' presence frames; arrivals and leaves
    right after it are recorded and announced, however many at once (each pooled Redis
    connection opened before the restart is dead); the send limit still limits, and
    refuses nothing else."""
    a, b = whole.workers
    room_id, owner, people = await room_with(a, 10)
    stayers, newcomers = people[:6], people[6:]
    staying = {person.id for person in stayers}
    arriving = {person.id for person in newcomers}
    async with contextlib.AsyncExitStack() as stack:
        # Unbounded queues: these clients read only some of what they get, and must still
        # close at once. Connecting at once fills each worker's pool with connections.
        sockets = list(await asyncio.gather(*(
            stack.enter_async_context(joined(a if i % 2 else b, p, room_id, max_queue=None))  # type: ignore[arg-type]
            for i, p in enumerate(stayers)
        )))  # fmt: skip
        await online_are(a, owner, room_id, staying)
        whole.redis.restart()
        restarted = time.monotonic()
        await ready(a, b)
        for worker in (a, b):
            await online_are(worker, owner, room_id, staying)
        back_online = time.monotonic() - restarted
        async with contextlib.AsyncExitStack() as arrivals:
            arrived = await asyncio.gather(*(
                arrivals.enter_async_context(joined(a if i % 2 else b, p, room_id))  # type: ignore[arg-type]
                for i, p in enumerate(newcomers)
            ))  # fmt: skip
            for person, socket in zip(newcomers, arrived, strict=True):
                assert socket.presence is not None
                listed = {user["id"] for user in socket.presence["users"]}
                assert staying | {person.id} <= listed <= staying | arriving
            # Recorded before the history frame went out: online at once, through either worker.
            for worker in (a, b):
                await online_are(worker, owner, room_id, staying | arriving, timeout=0)
            for client in sockets:
                await presence_news(client, {("join", who) for who in arriving}, stayers=staying)
        # A leave comes from the departure itself, well before the entry could expire.
        for client in sockets:
            await presence_news(
                client, {("leave", who) for who in arriving}, stayers=staying, timeout=PRESENCE_TTL
            )
        # The send limit: a full bucket (Redis forgot the old one), then refusals, nothing else.
        sender = sockets[0]
        for index in range(SEND_BURST + 10):
            await sender.say(f"burst {index}", nonce=f"burst-{index}")
        accepted, limited = await sent_or_limited(sender, SEND_BURST + 10)
    assert SEND_BURST <= len(accepted) < SEND_BURST + 10, (len(accepted), len(limited))
    assert len(accepted) + len(limited) == SEND_BURST + 10
    record_property(
        FAULT_COUNTS,
        {
            "stayed_connected": len(stayers),
            "arrived_and_left_after_restart": len(newcomers),
            "online_again_after_restart_s": round(back_online, 3),
            "burst": SEND_BURST + 10,
            "accepted": len(accepted),
            "rate_limited": len(limited),
        },
    )


async def presence_news(
    client: Client, expected: set[tuple[str, int]], *, stayers: set[int], timeout: float = RECOVERY_BOUND
) -> None:
    """Read presence frames until every (kind, user id) of `expected` came; on the way, none
    may say that someone who stayed connected left."""
    waiting = set(expected)
    async with asyncio.timeout(timeout):
        while waiting:
            frame = await client.recv(timeout)
            if frame["type"] not in ("join", "leave"):
                continue
            news = (frame["type"], frame["user"]["id"])
            waiting.discard(news)
            assert not (news[0] == "leave" and news[1] in stayers), f"told that {news[1]}, still here, left"


async def online_are(
    worker: ServerProcess, owner: Account, room_id: int, expected: set[int], timeout: float = RECOVERY_BOUND
) -> None:
    """The members list through `worker` says exactly `expected` are online: within
    `timeout`, or at once with 0."""
    async with http_to(worker) as http:
        deadline = time.monotonic() + timeout
        while True:
            members = (await http.get(f"/api/rooms/{room_id}/members", headers=owner.headers)).json()
            online = {m["user"]["id"] for m in members if m["online"]}
            if online == expected:
                return
            assert time.monotonic() < deadline, f"online through {worker.port}: {online}, not {expected}"
            await asyncio.sleep(0.1)


async def sent_or_limited(client: Client, count: int) -> tuple[set[str], set[str]]:
    """The nonces of `count` sends, split into stored ones and `rate_limited` ones."""
    accepted: set[str] = set()
    limited: set[str] = set()
    async with asyncio.timeout(RECOVERY_BOUND):
        while len(accepted) + len(limited) < count:
            frame = await client.recv(RECOVERY_BOUND)
            nonce = frame.get("nonce") or ""
            if not nonce.startswith("burst-"):
                continue
            if frame["type"] == "message":
                accepted.add(nonce)
            else:
                assert (frame["type"], frame["code"]) == ("error", "rate_limited"), frame
                limited.add(nonce)
    return accepted, limited


async def test_a_crashed_workers_people_leave_when_their_presence_expires(
    whole: Deployment, record_property: Record
) -> None:
    a, b = whole.workers
    room_id, owner, (gone, both, watcher) = await room_with(b, 3)
    async with (
        joined(b, watcher, room_id, max_queue=None) as watching,  # type: ignore[arg-type]
        joined(a, gone, room_id),  # type: ignore[arg-type]
        joined(a, both, room_id),  # type: ignore[arg-type]
        joined(b, both, room_id),  # type: ignore[arg-type]
    ):
        await online_are(b, owner, room_id, {watcher.id, gone.id, both.id})
        a.kill()
        killed = time.monotonic()
        # `both` is still here through B: no leave for them on the way.
        await presence_news(watching, {("leave", gone.id)}, stayers={both.id})
        left_after = time.monotonic() - killed
        await online_are(b, owner, room_id, {watcher.id, both.id})
    # Entries expire after the TTL; the leave follows at the next refresh but one.
    assert left_after < PRESENCE_TTL * 3
    record_property(
        FAULT_COUNTS,
        {"presence_ttl_s": PRESENCE_TTL, "leave_after_kill_s": round(left_after, 3), "wrong_leaves": 0},
    )


async def test_a_database_outage_refuses_sends_with_their_nonce_and_stores_each_once(
    whole: Deployment, record_property: Record
) -> None:
    """PostgreSQL is unreachable for a while during a stream of sends: each refused send gets
    `unavailable` with its nonce, the client sends it again, and it is stored once."""
    a, b = whole.workers
    room_id, owner_account, people = await room_with(a, 2)
    owner = Owner(owner_account, room_id, [a, b])
    async with following(room_id, people, [[a, b], [b, a]]) as followers:
        streams = [asyncio.create_task(f.stream(20)) for f in followers]
        for follower in followers:
            await follower.wait_until(lambda f=follower: f.counts.acknowledged >= 4, timeout=30)  # type: ignore[misc]
        whole.proxy.cut()
        cut = time.monotonic()
        # The database stays away for DATABASE_OUTAGE seconds, and until every client has been
        # refused: they keep sending again (every RESEND_AFTER) and being refused meanwhile.
        for follower in followers:
            await follower.wait_until(
                lambda f=follower: f.counts.unavailable >= 1 and time.monotonic() - cut >= DATABASE_OUTAGE,  # type: ignore[misc]
                timeout=RECOVERY_BOUND,
            )
        whole.proxy.restore()
        restored = time.monotonic()
        await asyncio.gather(*streams)
        recovered = time.monotonic() - restored
        await everyone_caught_up(followers, owner, RECOVERY_BOUND)
        counts = await judged(followers, owner)
    assert counts["unavailable"] >= 2
    counts |= {"outage_s": round(restored - cut, 3), "all_acknowledged_after_restore_s": round(recovered, 3)}
    record_property(FAULT_COUNTS, counts)


async def test_a_graceful_restart_loses_nothing(whole: Deployment, record_property: Record) -> None:
    """SIGTERM to A mid-stream: its clients get 1012 `server_restart`, reconnect to B with
    since_rev, and nothing is lost; A exits 0."""
    a, b = whole.workers
    room_id, owner_account, people = await room_with(b, 3)
    owner = Owner(owner_account, room_id, [b, a])
    for index in range(3):
        await owner.send(f"owner's message {index}")
    async with following(room_id, people, [[a, b], [a, b], [b, a]]) as followers:
        streams = [asyncio.create_task(f.stream(20)) for f in followers]
        edits = asyncio.create_task(owner.edits(10))
        await followers[0].wait_until(lambda: followers[0].counts.acknowledged >= 6, timeout=30)
        stopping = asyncio.create_task(asyncio.to_thread(a.stop))
        await asyncio.gather(*streams, edits)
        status = await stopping
        await everyone_caught_up(followers, owner, RECOVERY_BOUND)
        counts = await judged(followers, owner)
    assert [f.closes[0] for f in followers[:2]] == [(1012, "server_restart")] * 2
    assert status == 0
    counts |= {"exit_status": status, "owner_changes": owner.changes}
    record_property(FAULT_COUNTS, counts)


async def test_access_lost_while_a_worker_was_cut_off_is_enforced_when_redis_returns(
    whole: Deployment, record_property: Record
) -> None:
    """A kick, a ban, a room deletion and a deactivation, made through A while Redis was down:
    when it is back, B closes exactly the connections that lost access, with the close code
    they would have had; the others stay and go on receiving."""
    a, b = whole.workers
    room_id, owner, (kicked, banned, disabled, stays) = await room_with(a, 4)
    doomed_room = (await room_with_owner(a, owner))["id"]
    async with http_to(a) as http:
        await join(http, kicked, doomed_room)
    await make_admin(whole, owner)
    async with contextlib.AsyncExitStack() as stack:

        async def room_socket(who: Account, room: int) -> Client:
            return await stack.enter_async_context(joined(b, who, room, max_queue=None))  # type: ignore[arg-type]

        async def ws(who: Account, *rooms: int) -> Client:
            client = await stack.enter_async_context(multiplexed(b, who, max_queue=None))  # type: ignore[arg-type]
            for room in rooms:
                await client.subscribe(room)
            return client

        kicked_socket, kicked_ws = await room_socket(kicked, room_id), await ws(kicked, room_id, doomed_room)
        doomed_socket = await room_socket(kicked, doomed_room)
        banned_socket = await room_socket(banned, room_id)
        disabled_socket, disabled_ws = await room_socket(disabled, room_id), await ws(disabled, room_id)
        staying = await room_socket(stays, room_id)
        whole.redis.kill()
        await unready(b)
        async with http_to(a) as http:
            acts = [
                ("DELETE", f"/api/rooms/{room_id}/members/{kicked.id}", None),
                ("POST", f"/api/rooms/{room_id}/bans", {"user_id": banned.id}),
                ("DELETE", f"/api/rooms/{doomed_room}", None),
                ("PATCH", f"/api/admin/users/{disabled.id}", {"is_active": False}),
            ]
            for method, path, body in acts:
                response = await http.request(method, path, json=body, headers=owner.headers)
                assert response.status_code < 300, response.text
            sent = await http.post(
                f"/api/rooms/{room_id}/messages", json={"body": "during"}, headers=owner.headers
            )
            assert sent.status_code == 201, sent.text
        whole.redis.start()
        restarted = time.monotonic()
        closes = {
            "kicked": await kicked_socket.closed(RECOVERY_BOUND),
            "room deleted": await doomed_socket.closed(RECOVERY_BOUND),
            "banned": await banned_socket.closed(RECOVERY_BOUND),
            "deactivated": await disabled_socket.closed(RECOVERY_BOUND),
            "deactivated, /ws": await disabled_ws.closed(RECOVERY_BOUND),
        }
        enforced = time.monotonic() - restarted
        assert closes == {
            "kicked": (1008, "removed"),
            "room deleted": (4404, "room_deleted"),
            "banned": (1008, "banned"),
            "deactivated": (1008, "account_disabled"),
            "deactivated, /ws": (1008, "account_disabled"),
        }
        # The kicked member's /ws stays open: it loses both rooms, each for its reason.
        assert await lost_rooms(kicked_ws, 2) == {
            room_id: {"unsubscribed": "removed", "room_removed": "removed"},
            doomed_room: {"unsubscribed": "room_deleted", "room_removed": "room_deleted"},
        }
        await kicked_ws.send({"type": "ping"})
        assert (await kicked_ws.recv_type("pong"))["type"] == "pong"
        # The one who kept access got what was sent meanwhile, and what is sent now.
        assert [m["body"] for m in await staying.messages(1, RECOVERY_BOUND)] == ["during"]
        async with http_to(b) as http:
            await http.post(f"/api/rooms/{room_id}/messages", json={"body": "after"}, headers=owner.headers)
        assert [m["body"] for m in await staying.messages(1, RECOVERY_BOUND)] == ["after"]
    record_property(
        FAULT_COUNTS,
        {"acts": len(acts), "closes_enforced": len(closes), "enforced_after_restart_s": round(enforced, 3)},
    )


async def room_with_owner(worker: ServerProcess, owner: Account) -> dict[str, Any]:
    async with http_to(worker) as http:
        return await create_room(http, owner)


async def make_admin(deployment: Deployment, account: Account) -> None:
    connection = await asyncpg.connect(deployment.admin_dsn)
    try:
        await connection.execute("UPDATE users SET is_admin = true WHERE id = $1", account.id)
    finally:
        await connection.close()
