"""Request telemetry behind one Protocol: noop (default), structured log lines, or Prometheus."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any, Protocol

from example_service.settings import TelemetrySettings

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

# The slow-statement label: a statement's first keyword when it is one of these, else OTHER.
SQL_OPERATIONS = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def method_label(method: str) -> str:
    # An arbitrary method token must not mint a new series.
    return method if method in _KNOWN_METHODS else "OTHER"


class Telemetry(Protocol):
    def observe_request(self, method: str, route: str, status: int, duration_s: float) -> None: ...

    # Over LOG_SLOW_REQUEST_SECONDS / DATABASE_SLOW_QUERY_SECONDS (the statement's first word).
    def count_slow_request(self, method: str, route: str) -> None: ...

    def count_slow_query(self, operation: str) -> None: ...


class NoopTelemetry:
    def observe_request(self, method: str, route: str, status: int, duration_s: float) -> None:
        return None

    def count_slow_request(self, method: str, route: str) -> None:
        return None

    def count_slow_query(self, operation: str) -> None:
        return None


class LogTelemetry:
    """Vendor-neutral `metric.counter` / `metric.histogram` log lines, sampled."""

    def __init__(self, logger: Any, sample_rate: float, rng: random.Random | None = None) -> None:
        self.logger = logger
        self.sample_rate = sample_rate
        self._random = (rng or random.Random()).random  # noqa: S311 - sampling, not security

    def observe_request(self, method: str, route: str, status: int, duration_s: float) -> None:
        if self.sample_rate < 1.0 and self._random() >= self.sample_rate:
            return
        tags = {"method": method_label(method), "path": route, "status_code": status}
        self.logger.info("metric.counter", name="http_requests_total", value=1, tags=tags)
        self.logger.info(
            "metric.histogram",
            name="http_request_duration_ms",
            value=round(duration_s * 1000.0, 3),
            tags=tags,
        )

    def count_slow_request(self, method: str, route: str) -> None:
        # Rare by definition: never sampled.
        tags = {"method": method_label(method), "path": route}
        self.logger.info("metric.counter", name="slow_requests_total", value=1, tags=tags)

    def count_slow_query(self, operation: str) -> None:
        tags = {"operation": operation}
        self.logger.info("metric.counter", name="slow_queries_total", value=1, tags=tags)


class PrometheusTelemetry:
    """Counters and histograms in a registry owned by this app (not the global one)."""

    def __init__(
        self, registry: CollectorRegistry | None = None, *, exemplars: bool = False
    ) -> None:
        # Imported here: prometheus_client loads only in this mode (~60 ms at startup otherwise).
        from prometheus_client import (  # noqa: PLC0415
            CollectorRegistry,
            Counter,
            GCCollector,
            Histogram,
            PlatformCollector,
            ProcessCollector,
        )

        self.registry = registry or CollectorRegistry()
        # Collectors that read this process's state at scrape time (as opposed to the counters
        # and histograms below): in multiprocess mode a scrape shows the scraped worker's.
        self.live: list[Any] = []
        # The process's memory, CPU, open files and GC, as prometheus-client's default registry
        # has them (this registry is the app's own).
        for collector in (ProcessCollector, PlatformCollector, GCCollector):
            self.live.append(collector(registry=self.registry))
        labels = ("method", "route", "status")
        self.requests = Counter(
            "http_requests_total", "HTTP requests served", labels, registry=self.registry
        )
        self.duration = Histogram(
            "http_request_duration_seconds",
            "HTTP request duration in seconds",
            labels,
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        )
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        # With tracing (TELEMETRY_OTEL): each duration carries its trace id as an exemplar, so
        # a latency spike on a dashboard leads to the traces behind it.
        self._trace_ids: Any = None
        if exemplars:
            from example_service.observability.tracing import current_ids  # noqa: PLC0415

            self._trace_ids = current_ids
        size_buckets = (100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000)
        self.request_size = Histogram(
            "http_request_size_bytes",
            "Request body size (declared Content-Length) in bytes",
            ("method", "route"),
            registry=self.registry,
            buckets=size_buckets,
        )
        self.response_size = Histogram(
            "http_response_size_bytes",
            "Response body size in bytes",
            ("method", "route"),
            registry=self.registry,
            buckets=size_buckets,
        )
        self._size_children: dict[tuple[str, str], tuple[Any, Any]] = {}
        self.slow_requests = Counter(
            "slow_requests_total",
            "HTTP requests slower than LOG_SLOW_REQUEST_SECONDS",
            ("method", "route"),
            registry=self.registry,
        )
        self.slow_queries = Counter(
            "slow_queries_total",
            "SQL statements slower than DATABASE_SLOW_QUERY_SECONDS, by first keyword",
            ("operation",),
            registry=self.registry,
        )
        for operation in (*SQL_OPERATIONS, "OTHER"):
            self.slow_queries.labels(operation)  # at 0 from the start: a rate has a baseline

    def observe_request(self, method: str, route: str, status: int, duration_s: float) -> None:
        key = (method_label(method), route, status)
        children = self._children.get(key)
        if children is None:
            values = (key[0], route, str(status))
            children = (self.requests.labels(*values), self.duration.labels(*values))
            self._children[key] = children
        children[0].inc()
        if self._trace_ids is not None and (ids := self._trace_ids()) is not None:
            children[1].observe(duration_s, {"trace_id": ids[0]})
            return
        children[1].observe(duration_s)

    def observe_sizes(self, method: str, route: str, received: int, sent: int) -> None:
        key = (method_label(method), route)
        children = self._size_children.get(key)
        if children is None:
            children = (self.request_size.labels(*key), self.response_size.labels(*key))
            self._size_children[key] = children
        children[0].observe(received)
        children[1].observe(sent)

    def add_live(self, collector: Any) -> None:
        self.registry.register(collector)
        self.live.append(collector)

    def remove_live(self, collector: Any) -> None:
        self.registry.unregister(collector)
        self.live.remove(collector)

    def scrape_registry(self) -> CollectorRegistry:
        """What /metrics serves: this registry, or with several worker processes
        (PROMETHEUS_MULTIPROC_DIR, see observability/multiprocess.py) every worker's counters
        and histograms summed, and this worker's live collectors."""
        from example_service.observability import multiprocess  # noqa: PLC0415

        if not multiprocess.enabled():
            return self.registry
        return multiprocess.registry(self.live)

    def count_slow_request(self, method: str, route: str) -> None:
        self.slow_requests.labels(method_label(method), route).inc()

    def count_slow_query(self, operation: str) -> None:
        self.slow_queries.labels(operation).inc()


def build_telemetry(settings: TelemetrySettings, logger: Any) -> Telemetry:
    if settings.mode == "log":
        return LogTelemetry(logger, settings.sample_rate)
    if settings.mode == "prometheus":
        return PrometheusTelemetry(exemplars=settings.otel)
    return NoopTelemetry()
