"""Prometheus metrics, in a registry of the app's own, for the whole deployment.

Counters on the per-frame and per-request paths are plain integers (an increment costs
nanoseconds; a labelled prometheus-client Counter and Histogram cost about 2.5 µs a
request, a lock each); collectors read them when /metrics is scraped.

Every series carries a `worker` label. With `BROKER_URL=redis://...` each worker writes
a snapshot of its figures to Redis every `METRICS_INTERVAL_SECONDS`, with a time to live
of three intervals, so /metrics on any worker answers for every worker alive: its own
figures as they are now, the others' as of their last snapshot. A dead worker's
figures vanish when its snapshot expires; `sum by (...)` in PromQL gives deployment
totals. Scrape one worker (or the load balancer), not every worker.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, cast

import orjson
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from redis.asyncio import Redis
from redis.exceptions import RedisError

from api.cancellation import stop_if_cancelled

if TYPE_CHECKING:
    from api.context import AppContext
    from api.db import Database

logger = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
WORKERS_KEY = "hubbub:metrics:workers"
SNAPSHOT_TTL_INTERVALS = 3


class Metrics:
    def __init__(self, *, worker_id: str) -> None:
        self.worker_id = worker_id
        self.registry = CollectorRegistry()
        self.broadcast_seconds = Histogram(
            "hubbub_broadcast_latency_seconds",
            "From publishing a message to handing it to every local connection's queue",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.messages_stored = Counter("hubbub_messages_stored", "Messages stored", registry=self.registry)
        self.http = HttpStats()
        self.registry.register(self.http)
        self._shared: SharedMetrics | None = None

    def watch(self, context: AppContext) -> None:
        self.registry.register(_HubCollector(context))
        self.registry.register(_PoolCollector(context.db))

    def share_through(self, redis: Redis, *, interval: float) -> None:
        """Publish this worker's figures to Redis and read the other workers' from there."""
        self._shared = SharedMetrics(
            redis, worker_id=self.worker_id, interval=interval, snapshot=self.snapshot
        )

    async def start(self) -> None:
        if self._shared is not None:
            await self._shared.start()

    async def stop(self) -> None:
        if self._shared is not None:
            await self._shared.stop()

    def snapshot(self) -> bytes:
        return encode(self.registry.collect())

    async def render(self) -> bytes:
        """Prometheus text for every worker alive, this one first."""
        workers: list[tuple[str, Iterable[Metric]]] = [(self.worker_id, list(self.registry.collect()))]
        if self._shared is not None:
            workers += [(worker, decode(snapshot)) for worker, snapshot in await self._shared.others()]
        return generate_latest(_Deployment(workers))


class HttpStats(Collector):
    """Requests by method, route template (never the raw path: bounded cardinality) and
    status, and their durations, as plain counts."""

    def __init__(self) -> None:
        self._requests: dict[tuple[str, str, int], int] = {}
        # Per (method, route): a count per bucket, then one for +Inf, then the sum of seconds.
        self._durations: dict[tuple[str, str], list[float]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        if method not in HTTP_METHODS:
            method = "OTHER"
        key = (method, route, status)
        self._requests[key] = self._requests.get(key, 0) + 1
        counts = self._durations.get((method, route))
        if counts is None:
            counts = self._durations[(method, route)] = [0.0] * (len(HTTP_BUCKETS) + 2)
        counts[bisect.bisect_left(HTTP_BUCKETS, seconds)] += 1
        counts[-1] += seconds

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "hubbub_http_requests",
            "HTTP requests answered, by method, route template and status",
            labels=["method", "route", "status"],
        )
        for (method, route, status), count in list(self._requests.items()):
            requests.add_metric([method, route, str(status)], count)
        yield requests
        durations = HistogramMetricFamily(
            "hubbub_http_request_duration_seconds",
            "From a request's arrival to its response's end, by method and route template",
            labels=["method", "route"],
        )
        for (method, route), counts in list(self._durations.items()):
            cumulative, buckets = 0.0, []
            for bound, in_bucket in zip((*HTTP_BUCKETS, float("inf")), counts, strict=False):
                cumulative += in_bucket
                buckets.append((_bound(bound), cumulative))
            durations.add_metric([method, route], buckets, sum_value=counts[-1])
        yield durations


def _bound(value: float) -> str:
    return "+Inf" if value == float("inf") else repr(value)


class _HubCollector(Collector):
    def __init__(self, context: AppContext) -> None:
        self._context = context

    def collect(self) -> Iterator[Metric]:
        hub = self._context.hub
        stats = hub.stats
        yield GaugeMetricFamily(
            "hubbub_connections", "Open WebSocket connections", value=hub.connection_count
        )
        yield GaugeMetricFamily("hubbub_rooms_live", "Rooms with open connections", value=hub.room_count)
        yield CounterMetricFamily("hubbub_frames_sent", "Frames sent to clients", value=stats.frames_sent)
        yield CounterMetricFamily(
            "hubbub_frames_dropped",
            "Frames dropped because their connection closed",
            value=stats.frames_dropped,
        )
        yield CounterMetricFamily(
            "hubbub_queue_overflows",
            "Connections closed 1013 for reading too slowly",
            value=stats.overflows,
        )
        reconnects = getattr(hub.broker, "reconnects", 0)
        yield CounterMetricFamily("hubbub_broker_reconnects", "Broker reconnections", value=reconnects)


class _PoolCollector(Collector):
    """Database connections of the read and write pools: in use, idle, and the pool's size."""

    def __init__(self, db: Database) -> None:
        self._pools = {"read": db.engine, "write": db.write_engine}

    def collect(self) -> Iterator[Metric]:
        connections = GaugeMetricFamily(
            "hubbub_db_connections", "Database connections by pool and state", labels=["pool", "state"]
        )
        size = GaugeMetricFamily(
            "hubbub_db_pool_size", "Connections a pool keeps (more may open under load)", labels=["pool"]
        )
        for name, engine in self._pools.items():
            pool: Any = engine.pool
            if not hasattr(pool, "checkedout"):
                continue
            connections.add_metric([name, "in_use"], pool.checkedout())
            connections.add_metric([name, "idle"], pool.checkedin())
            size.add_metric([name], pool.size())
        yield connections
        yield size


# --- one answer for every worker -------------------------------------------------------


def encode(families: Iterable[Metric]) -> bytes:
    return orjson.dumps(
        [
            [
                family.name,
                family.documentation,
                family.type,
                family.unit,
                [[sample.name, sample.labels, sample.value] for sample in family.samples],
            ]
            for family in families
        ]
    )


def decode(snapshot: bytes) -> list[Metric]:
    families = []
    for name, documentation, kind, unit, samples in orjson.loads(snapshot):
        family = Metric(name, documentation, kind, unit)
        for sample_name, labels, value in samples:
            if value is not None:  # NaN travels as null
                family.add_sample(sample_name, labels, value)
        families.append(family)
    return families


class _Deployment:
    """Every worker's families merged by name, each sample labelled with its worker."""

    def __init__(self, workers: list[tuple[str, Iterable[Metric]]]) -> None:
        self._workers = workers

    def collect(self) -> Iterator[Metric]:
        merged: dict[str, Metric] = {}
        for worker, families in self._workers:
            for family in families:
                into = merged.get(family.name)
                if into is None:
                    into = merged[family.name] = Metric(
                        family.name, family.documentation, family.type, family.unit
                    )
                for sample in family.samples:
                    into.add_sample(sample.name, {**sample.labels, "worker": worker}, sample.value)
        yield GaugeMetricFamily(
            "hubbub_workers", "Workers whose figures this answer holds", value=len(self._workers)
        )
        yield from merged.values()


class SharedMetrics:
    """This worker's snapshot in Redis, refreshed every `interval` seconds, and the others'.

    A sorted set indexes the workers by the expiry of their snapshot, so a scrape reads the
    live workers' keys without scanning the keyspace."""

    def __init__(
        self, redis: Redis, *, worker_id: str, interval: float, snapshot: Callable[[], bytes]
    ) -> None:
        self._redis = redis
        self._worker = worker_id
        self._interval = interval
        self._snapshot = snapshot
        self._task: asyncio.Task[None] | None = None

    @property
    def _ttl_ms(self) -> int:
        return max(1, int(self._interval * SNAPSHOT_TTL_INTERVALS * 1000))

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="metrics-share")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        try:  # gone at once rather than when the snapshot expires
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.delete(_key(self._worker))
                pipe.zrem(WORKERS_KEY, self._worker)
                await pipe.execute()
        except (RedisError, OSError) as exc:
            logger.warning("removing this worker's metrics from Redis failed: %r", exc)

    async def _run(self) -> None:
        while True:
            try:
                await self.publish()
            except (RedisError, OSError) as exc:
                logger.warning("sharing metrics through Redis failed: %r", exc)
            stop_if_cancelled()
            await asyncio.sleep(self._interval)

    async def publish(self) -> None:
        now = _now_ms()
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.set(_key(self._worker), self._snapshot(), px=self._ttl_ms)
            pipe.zadd(WORKERS_KEY, {self._worker: now + self._ttl_ms})
            pipe.zremrangebyscore(WORKERS_KEY, "-inf", now)
            pipe.pexpire(WORKERS_KEY, self._ttl_ms)
            await pipe.execute()

    async def others(self) -> list[tuple[str, bytes]]:
        """The other live workers' snapshots; none when Redis cannot be reached."""
        try:
            live = cast(list[bytes], await self._redis.zrangebyscore(WORKERS_KEY, _now_ms(), "+inf"))
            workers = [worker for worker in (raw.decode() for raw in live) if worker != self._worker]
            snapshots = cast(
                list[bytes | None], await self._redis.mget([_key(w) for w in workers]) if workers else []
            )
        except (RedisError, OSError) as exc:
            logger.warning("reading the other workers' metrics failed: %r", exc)
            return []
        return [(worker, snapshot) for worker, snapshot in zip(workers, snapshots, strict=True) if snapshot]


def _key(worker: str) -> str:
    return f"hubbub:metrics:worker:{worker}"


def _now_ms() -> int:
    return int(time.time() * 1000)
