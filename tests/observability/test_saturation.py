"""Saturation and dependency signals read at scrape time: event-loop lag and breaker
transitions."""

from __future__ import annotations

import asyncio
import time

from prometheus_client import CollectorRegistry

from example_service.observability.loop_lag import LoopLag
from example_service.observability.metrics import BreakerCollector
from example_service.resilience.breaker import CircuitBreaker
from example_service.resilience.registry import Breakers


async def test_a_blocked_loop_shows_as_lag_until_the_next_scrape() -> None:
    registry = CollectorRegistry()
    lag = LoopLag(interval=0.01)
    registry.register(lag)
    lag.start()
    try:
        await asyncio.sleep(0.05)
        time.sleep(0.2)  # a synchronous call blocks the loop  # noqa: ASYNC251
        await asyncio.sleep(0.05)
        worst = registry.get_sample_value("event_loop_lag_seconds")
        assert worst is not None and worst >= 0.15
        await asyncio.sleep(0.05)  # the loop is free again
        after = registry.get_sample_value("event_loop_lag_seconds")
        assert after is not None and after < 0.15  # a scrape starts a new period
    finally:
        await lag.stop()


def test_breaker_transitions_are_counted_by_the_state_entered() -> None:
    breakers = Breakers()
    clock = [0.0]
    breaker = breakers.add(CircuitBreaker("db", 2, 5.0, clock=lambda: clock[0]))
    registry = CollectorRegistry()
    registry.register(BreakerCollector(breakers))

    def transitions(state: str) -> float | None:
        labels = {"breaker": "db", "state": state}
        return registry.get_sample_value("circuit_breaker_transitions_total", labels)

    assert transitions("open") == 0
    for _ in range(2):
        breaker.record_failure()
    clock[0] = 6.0
    assert breaker.allow()  # half-open: one trial
    breaker.record_success()
    assert (transitions("open"), transitions("half_open"), transitions("closed")) == (1, 1, 1)
    assert registry.get_sample_value("circuit_breaker_state", {"breaker": "db"}) == 0
