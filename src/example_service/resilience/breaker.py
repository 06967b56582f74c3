"""The circuit breaker every outbound dependency goes through (database, Redis, HTTP services).

closed -> open when `failure_threshold` calls fail in a row, or (with `failure_rate`) when that
share of the calls in the last `window_seconds` failed, over at least `min_calls` calls. Open:
calls fail at once, without touching the dependency. `recovery_seconds` after opening, exactly
one call goes through as a trial (half-open); its success closes the breaker, its failure opens
it again for a full period. A trial whose caller gives up without an outcome (cancelled) frees
the slot for the next caller.

The closed path is what every request pays: `allow` is one comparison, `record_success` a store
(plus a bucket increment when a failure rate is watched). The clock is injectable so that tests
drive the transitions without sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import TypeVar

T = TypeVar("T")
Clock = Callable[[], float]
Listener = Callable[["CircuitBreaker", "BreakerState", "BreakerState"], None]


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class BreakerOpenError(Exception):
    """The dependency is not called: its breaker is open (or its one trial is out)."""

    def __init__(self, name: str, retry_after: float) -> None:
        self.name = name
        self.retry_after = retry_after
        super().__init__(f"{name}: circuit open, next trial in {retry_after:.1f}s")


class CircuitBreaker:
    __slots__ = (
        "_buckets",
        "_failures",
        "_opened_at",
        "_trial_out",
        "clock",
        "failure_rate",
        "failure_threshold",
        "listeners",
        "min_calls",
        "name",
        "recovery_seconds",
        "state",
        "window_seconds",
    )

    def __init__(
        self,
        name: str,
        failure_threshold: int = 5,
        recovery_seconds: float = 30.0,
        *,
        failure_rate: float | None = None,
        window_seconds: float = 60.0,
        min_calls: int = 20,
        clock: Clock = time.monotonic,
    ) -> None:
        if failure_threshold < 1 or recovery_seconds <= 0:
            raise ValueError(f"breaker {name!r}: threshold >= 1 and recovery > 0 required")
        if failure_rate is not None and not 0 < failure_rate <= 1:
            raise ValueError(f"breaker {name!r}: failure_rate must be in (0, 1]")
        self.name = name
        self.failure_threshold = failure_threshold
        self.recovery_seconds = recovery_seconds
        self.failure_rate = failure_rate
        self.window_seconds = window_seconds
        self.min_calls = min_calls
        self.clock = clock
        self.state = BreakerState.CLOSED
        self.listeners: list[Listener] = []
        self._failures = 0
        self._opened_at = 0.0
        self._trial_out = False
        # Per whole second of the window: [second, calls, failures].
        self._buckets: list[list[int]] = []

    # --- the gate ---------------------------------------------------------------------------

    def allow(self) -> bool:
        """May a call go through now? While half-open, only the one trial."""
        if self.state is BreakerState.CLOSED:
            return True
        if self.state is BreakerState.OPEN:
            if self.clock() - self._opened_at < self.recovery_seconds:
                return False
            self._move(BreakerState.HALF_OPEN)
        if self._trial_out:
            return False
        self._trial_out = True
        return True

    def check(self) -> None:
        """`allow`, raising `BreakerOpenError` when the call may not go through."""
        if not self.allow():
            raise BreakerOpenError(self.name, self.retry_after())

    def retry_after(self) -> float:
        """Seconds until the next trial may go out (0 when closed)."""
        if self.state is BreakerState.CLOSED:
            return 0.0
        return max(0.0, self._opened_at + self.recovery_seconds - self.clock())

    # --- outcomes ---------------------------------------------------------------------------

    def record_success(self) -> None:
        self._failures = 0
        if self.failure_rate is not None:
            self._count(failed=False)
        if self.state is not BreakerState.CLOSED:
            self._trial_out = False
            self._move(BreakerState.CLOSED)

    def record_failure(self) -> None:
        self._failures += 1
        if self.state is BreakerState.HALF_OPEN:
            self._open()
            return
        if self.state is BreakerState.OPEN:
            return  # a call admitted before the breaker opened, failing late
        if self._failures >= self.failure_threshold or self._rate_exceeded():
            self._open()

    def release(self) -> None:
        """The trial's caller left without an outcome: let the next caller try."""
        if self.state is BreakerState.HALF_OPEN:
            self._trial_out = False

    async def call(
        self,
        function: Callable[[], Awaitable[T]],
        failure: Callable[[BaseException], bool],
    ) -> T:
        """Run `function` through the breaker; `failure(exc)` says which errors count."""
        self.check()
        try:
            result = await function()
        except BaseException as exc:
            if isinstance(exc, Exception) and failure(exc):
                self.record_failure()
            else:
                # Cancelled, or an error that says nothing about the dependency's health.
                self.release()
            raise
        self.record_success()
        return result

    # --- internals --------------------------------------------------------------------------

    def _open(self) -> None:
        self._opened_at = self.clock()
        self._trial_out = False
        self._buckets.clear()
        self._move(BreakerState.OPEN)

    def _move(self, state: BreakerState) -> None:
        previous, self.state = self.state, state
        if state is BreakerState.CLOSED:
            self._failures = 0
        for listener in self.listeners:
            listener(self, previous, state)

    def _count(self, *, failed: bool) -> None:
        second = int(self.clock())
        buckets = self._buckets
        if buckets and buckets[-1][0] == second:
            bucket = buckets[-1]
        else:
            bucket = [second, 0, 0]
            buckets.append(bucket)
            horizon = second - self.window_seconds
            while buckets[0][0] <= horizon:
                del buckets[0]
        bucket[1] += 1
        bucket[2] += failed

    def _rate_exceeded(self) -> bool:
        if self.failure_rate is None:
            return False
        self._count(failed=True)
        calls = sum(bucket[1] for bucket in self._buckets)
        failures = sum(bucket[2] for bucket in self._buckets)
        return calls >= self.min_calls and failures >= self.failure_rate * calls
