"""Outbound calls, counted per service with TELEMETRY_MODE=prometheus: how many and how they
ended (`ok`, `error`: a 502/503/504 problem, `throttled`: the service's 429), how long they took
(retries included), how many retries they needed, and whether retried calls recovered. Service
names come from OUTBOUND_SERVICES: the label set is bounded."""

from __future__ import annotations

from typing import Any


class OutboundMetrics:
    def __init__(self, registry: Any) -> None:
        from prometheus_client import Counter, Histogram  # noqa: PLC0415 - that mode only

        self.calls = Counter(
            "outbound_requests",
            "Calls to outbound HTTP services, by how they ended",
            ["service", "outcome"],
            registry=registry,
        )
        self.duration = Histogram(
            "outbound_request_duration_seconds",
            "Outbound call duration, retries included",
            ["service"],
            registry=registry,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
        )
        self.retries = Counter(
            "outbound_retries", "Outbound attempts beyond the first", ["service"], registry=registry
        )
        # Of the calls that needed retries: answered in the end, or given up on.
        self.retried = Counter(
            "outbound_retried_calls",
            "Outbound calls that were retried, by how they ended (recovered or exhausted)",
            ["service", "outcome"],
            registry=registry,
        )

    def declare(self, service: str) -> None:
        """The service's series at 0 from the start (an error rate has a baseline)."""
        for outcome in ("ok", "error", "throttled"):
            self.calls.labels(service, outcome)
        self.duration.labels(service)
        self.retries.labels(service)
        for outcome in ("recovered", "exhausted"):
            self.retried.labels(service, outcome)

    def observe(self, service: str, outcome: str, seconds: float, attempts: int) -> None:
        self.calls.labels(service, outcome).inc()
        self.duration.labels(service).observe(seconds)
        if attempts > 1:
            self.retries.labels(service).inc(attempts - 1)
            ended = "recovered" if outcome == "ok" else "exhausted"
            self.retried.labels(service, ended).inc()
