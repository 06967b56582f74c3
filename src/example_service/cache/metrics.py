"""Hits, misses and errors per cache name: in-process counts always (`cache stats`), and
Prometheus counters with TELEMETRY_MODE=prometheus. Names are the namespaces the code
declares, so the label set is bounded."""

from __future__ import annotations

from collections import Counter
from typing import Any


class CacheMetrics:
    def __init__(self, registry: Any | None = None) -> None:
        self.hits: Counter[str] = Counter()
        self.misses: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self._prometheus: tuple[Any, Any, Any] | None = None
        if registry is not None:
            from prometheus_client import Counter as PromCounter  # noqa: PLC0415 - that mode only

            self._prometheus = tuple(  # type: ignore[assignment]
                PromCounter(f"cache_{what}_total", help_, ["cache"], registry=registry)
                for what, help_ in (
                    ("hits", "Cache reads answered from the cache"),
                    ("misses", "Cache reads that found nothing"),
                    ("errors", "Cache operations the backend could not answer"),
                )
            )

    def declare(self, name: str) -> None:
        """Export the cache `name`'s counters at 0 before its first read, so that a hit rate
        has a baseline and an alert on it a series."""
        if self._prometheus is not None:
            for counter in self._prometheus:
                counter.labels(name)

    def hit(self, name: str) -> None:
        self.hits[name] += 1
        if self._prometheus is not None:
            self._prometheus[0].labels(name).inc()

    def miss(self, name: str) -> None:
        self.misses[name] += 1
        if self._prometheus is not None:
            self._prometheus[1].labels(name).inc()

    def error(self, name: str) -> None:
        self.errors[name] += 1
        if self._prometheus is not None:
            self._prometheus[2].labels(name).inc()

    def snapshot(self) -> dict[str, dict[str, int]]:
        names = set(self.hits) | set(self.misses) | set(self.errors)
        return {
            name: {
                "hits": self.hits[name],
                "misses": self.misses[name],
                "errors": self.errors[name],
            }
            for name in sorted(names)
        }
