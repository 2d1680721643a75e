"""The `Meter` on prometheus-client, with its own registry (not the process-wide default), so that
several platforms in one process keep separate figures. Gauges of the database (queues, overdue
applications) are set by the caller just before each scrape."""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)

from sevamitra.core.ports import Counted, Timed

WEBHOOK_OUTCOMES = ("stored", "duplicate", "bad_signature", "unavailable")
SEND_RESULTS = ("sent", "retry", "failed", "outside_window", "undeliverable")
QUEUES = ("inbox", "outbox")
TURN_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)  # seconds: waiting included


class PrometheusMeter:
    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry()
        ProcessCollector(registry=registry)  # process_resident_memory_bytes and friends (Linux)
        deliveries = Counter(
            "sevamitra_webhook_deliveries", "WhatsApp webhook deliveries, by outcome", ["outcome"], registry=registry
        )
        sent = Counter("sevamitra_messages_sent", "Outbound send attempts, by result", ["result"], registry=registry)
        self._counters: dict[Counted, Counter] = {
            "webhook_deliveries": deliveries,
            "messages_sent": sent,
            "graph_api_throttled": Counter(
                "sevamitra_graph_api_throttled",
                "Graph API rate limits met (HTTP 429 or a throttling code)",
                registry=registry,
            ),
        }
        for outcome in WEBHOOK_OUTCOMES:  # every series shows from the start, at 0
            deliveries.labels(outcome=outcome)
        for result in SEND_RESULTS:
            sent.labels(result=result)
        self._timings: dict[Timed, Histogram] = {
            "turn_latency": Histogram(
                "sevamitra_turn_latency_seconds",
                "Seconds from a message's arrival to its turn's commit",
                buckets=TURN_BUCKETS,
                registry=registry,
            ),
        }
        self._depth = Gauge("sevamitra_queue_depth", "Items waiting, by queue", ["queue"], registry=registry)
        self._age = Gauge(
            "sevamitra_queue_oldest_age_seconds",
            "Age of the oldest waiting item, by queue",
            ["queue"],
            registry=registry,
        )
        self._overdue = Gauge(
            "sevamitra_sla_breaches", "Open applications past their step's due time", registry=registry
        )

    def count(self, name: Counted, **labels: str) -> None:
        counter = self._counters[name]
        (counter.labels(**labels) if labels else counter).inc()

    def observe(self, name: Timed, seconds: float, **labels: str) -> None:
        histogram = self._timings[name]
        (histogram.labels(**labels) if labels else histogram).observe(seconds)

    def queue(self, name: str, waiting: float, oldest_age_seconds: float) -> None:
        self._depth.labels(queue=name).set(waiting)
        self._age.labels(queue=name).set(oldest_age_seconds)

    def sla_breaches(self, count: float) -> None:
        self._overdue.set(count)

    def exposition(self) -> tuple[bytes, str]:
        """The registry in Prometheus text format, and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
