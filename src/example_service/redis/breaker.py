"""A small circuit breaker for the Redis path: while Redis is down, stop paying its timeout.

closed -> (``failure_threshold`` consecutive failures) -> open -> (``reset_seconds`` later) ->
half-open: one probe call goes through; success closes the breaker, failure reopens it.
The clock is injectable so that tests drive the transitions without sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    __slots__ = (
        "_failures",
        "_opened_at",
        "_probing",
        "clock",
        "failure_threshold",
        "reset_seconds",
        "state",
    )

    def __init__(
        self,
        failure_threshold: int = 3,
        reset_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.reset_seconds = reset_seconds
        self.clock = clock
        self.state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False

    def allow(self) -> bool:
        """May a call go through now? In half-open state only one probe at a time."""
        if self.state is BreakerState.CLOSED:
            return True
        if self.state is BreakerState.OPEN:
            if self.clock() - self._opened_at < self.reset_seconds:
                return False
            self.state = BreakerState.HALF_OPEN
            self._probing = False
        if self._probing:
            return False
        self._probing = True
        return True

    def record_success(self) -> None:
        self.state = BreakerState.CLOSED
        self._failures = 0
        self._probing = False

    def record_failure(self) -> None:
        self._failures += 1
        if self.state is BreakerState.HALF_OPEN or self._failures >= self.failure_threshold:
            self.state = BreakerState.OPEN
            self._opened_at = self.clock()
            self._probing = False
