"""The process's breakers, one per dependency by name, for health, metrics and logs to read."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator

from example_service.observability.logging import get_logger
from example_service.resilience.breaker import BreakerState, CircuitBreaker, Clock
from example_service.settings import ResilienceSettings

logger = get_logger("example_service.resilience")


def _log_transition(breaker: CircuitBreaker, previous: BreakerState, state: BreakerState) -> None:
    log = logger.warning if state is BreakerState.OPEN else logger.info
    log(
        "resilience.breaker",
        breaker=breaker.name,
        previous=previous.value,
        state=state.value,
        retry_after_s=round(breaker.retry_after(), 3),
    )


class Breakers:
    def __init__(self) -> None:
        self._by_name: dict[str, CircuitBreaker] = {}
        # (breaker, state entered) -> how many times: for the transitions metric.
        self.transitions: Counter[tuple[str, str]] = Counter()

    def add(self, breaker: CircuitBreaker) -> CircuitBreaker:
        if breaker.name in self._by_name:
            raise ValueError(f"a breaker named {breaker.name!r} exists already")
        breaker.listeners.append(_log_transition)
        breaker.listeners.append(self._count_transition)
        self._by_name[breaker.name] = breaker
        return breaker

    def create(
        self, name: str, settings: ResilienceSettings, clock: Clock = time.monotonic
    ) -> CircuitBreaker:
        """The breaker of dependency `name` (db, redis, http:<service>), from RESILIENCE_*."""
        threshold, recovery = settings.breaker_for(name.partition(":")[0])
        return self.add(
            CircuitBreaker(
                name,
                threshold,
                recovery,
                failure_rate=settings.failure_rate,
                window_seconds=settings.window_seconds,
                min_calls=settings.min_calls,
                clock=clock,
            )
        )

    def _count_transition(
        self, breaker: CircuitBreaker, _previous: BreakerState, state: BreakerState
    ) -> None:
        self.transitions[breaker.name, state.value] += 1

    def get(self, name: str) -> CircuitBreaker | None:
        return self._by_name.get(name)

    def __iter__(self) -> Iterator[CircuitBreaker]:
        return iter(self._by_name.values())

    def states(self) -> dict[str, BreakerState]:
        return {name: breaker.state for name, breaker in self._by_name.items()}
