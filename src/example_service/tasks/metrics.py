"""Prometheus series of the tasks (TELEMETRY_MODE=prometheus): enqueued, completed by status,
duration. The only label is the task name (and the status): names are the registered tasks,
so the label set is bounded."""

from __future__ import annotations

from typing import Any

STATUSES = ("ok", "failed", "duplicate")


class TaskMetrics:
    def __init__(self, registry: Any | None = None) -> None:
        self._series: tuple[Any, Any, Any] | None = None
        if registry is not None:
            from prometheus_client import Counter, Histogram  # noqa: PLC0415 - that mode only

            self._series = (
                Counter(
                    "tasks_enqueued_total", "Tasks sent to the broker", ["task"], registry=registry
                ),
                Counter(
                    "tasks_completed_total",
                    "Tasks finished, by outcome (ok, failed, duplicate)",
                    ["task", "status"],
                    registry=registry,
                ),
                Histogram(
                    "task_duration_seconds",
                    "Time a task ran, retries included",
                    ["task"],
                    registry=registry,
                ),
            )

    def declare(self, tasks: list[str]) -> None:
        """Export every registered task's series at 0 from the start, so that an alert or a
        rate over them has a series before the first task runs."""
        if self._series is None:
            return
        enqueued, completed, duration = self._series
        for task in tasks:
            enqueued.labels(task)
            duration.labels(task)
            for status in STATUSES:
                completed.labels(task, status)

    def enqueued(self, task: str) -> None:
        if self._series is not None:
            self._series[0].labels(task).inc()

    def completed(self, task: str, status: str, seconds: float) -> None:
        if self._series is not None:
            self._series[1].labels(task, status).inc()
            self._series[2].labels(task).observe(seconds)
