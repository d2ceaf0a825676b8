"""Prometheus metrics, in a registry of the app's own.

Counters on the per-frame path are plain integers on the hub (an increment costs
nanoseconds, a prometheus-client Counter a lock); a collector reads them when
/metrics is scraped. With several workers, each reports its own figures: point
Prometheus at each worker, or aggregate by instance.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from api.context import AppContext

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.broadcast_seconds = Histogram(
            "hubbub_broadcast_latency_seconds",
            "From publishing a message to handing it to every local connection's queue",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.messages_stored = Counter("hubbub_messages_stored", "Messages stored", registry=self.registry)

    def watch(self, context: AppContext) -> None:
        self.registry.register(_HubCollector(context))

    def render(self) -> bytes:
        return generate_latest(self.registry)


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
