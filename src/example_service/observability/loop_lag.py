"""Event-loop lag: how late the loop wakes a task that asked to sleep. A loop busy with CPU work
(or blocked by a synchronous call) delays every request it serves by that much, which no
request timing shows on its own: the saturation signal of an async service.

A task sleeps `interval` seconds at a time and records how much later than asked it woke;
`event_loop_lag_seconds` is the worst lag since the last scrape (a spike between scrapes is not
lost) and `event_loop_lag_seconds_last` the latest. Started by the lifespan with
TELEMETRY_MODE=prometheus only.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

INTERVAL = 0.25  # seconds between wake-ups: four samples a second, a few microseconds each


class LoopLag(Collector):
    def __init__(self, interval: float = INTERVAL) -> None:
        self.interval = interval
        self.last = 0.0
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch(), name="event-loop-lag")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _watch(self) -> None:
        while True:
            asked = time.perf_counter()
            await asyncio.sleep(self.interval)
            self.last = max(0.0, time.perf_counter() - asked - self.interval)
            self.worst = max(self.worst, self.last)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        worst, self.worst = self.worst, self.last  # a scrape starts a new period
        yield GaugeMetricFamily(
            "event_loop_lag_seconds",
            "Worst event-loop lag since the previous scrape (a sleeping task woken late)",
            value=worst,
        )
        yield GaugeMetricFamily(
            "event_loop_lag_seconds_last",
            "Event-loop lag measured last",
            value=self.last,
        )
