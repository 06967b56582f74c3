"""Retries: how many attempts, how long between them, and when there is none at all.

Retries are off in the suite by stamina's own switch (tests/conftest.py); these tests turn it
to the number of attempts they check, or off (real waits, kept to milliseconds) for backoff.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import stamina
from stamina.instrumentation import RetryDetails, set_on_retry_hooks

from example_service.resilience.breaker import BreakerOpenError, BreakerState, CircuitBreaker
from example_service.resilience.retry import RetryPolicy, call_with_retry


class Upstream:
    """A dependency that fails `failures` times with `error`, then answers."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures = failures
        self.error = error
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "answer"


def retryable(exc: BaseException) -> bool:
    return isinstance(exc, ConnectionError | TimeoutError)


POLICY = RetryPolicy(attempts=3, timeout=5.0, wait_initial=0.001, wait_max=0.002, wait_jitter=0)


@pytest.fixture
def three_attempts() -> Iterator[None]:
    with stamina.set_testing(True, attempts=3):
        yield


@pytest.mark.usefixtures("three_attempts")
async def test_an_idempotent_call_is_retried_until_it_answers() -> None:
    upstream = Upstream(2, ConnectionError("reset"))
    breaker = CircuitBreaker("t", failure_threshold=10)
    result = await call_with_retry(POLICY, breaker, upstream, retryable=retryable, idempotent=True)
    assert result == "answer" and upstream.calls == 3
    assert breaker.state is BreakerState.CLOSED


@pytest.mark.usefixtures("three_attempts")
async def test_attempts_are_bounded() -> None:
    upstream = Upstream(10, TimeoutError())
    with pytest.raises(TimeoutError):
        await call_with_retry(
            POLICY, CircuitBreaker("t", 10), upstream, retryable=retryable, idempotent=True
        )
    assert upstream.calls == 3


@pytest.mark.usefixtures("three_attempts")
async def test_no_retry_for_an_error_that_will_repeat() -> None:
    upstream = Upstream(1, ValueError("422: the request itself is wrong"))
    with pytest.raises(ValueError, match="422"):
        await call_with_retry(
            POLICY, CircuitBreaker("t", 10), upstream, retryable=retryable, idempotent=True
        )
    assert upstream.calls == 1


@pytest.mark.usefixtures("three_attempts")
async def test_no_retry_for_a_call_that_is_not_idempotent() -> None:
    upstream = Upstream(1, ConnectionError("reset"))
    with pytest.raises(ConnectionError):
        await call_with_retry(
            POLICY, CircuitBreaker("t", 10), upstream, retryable=retryable, idempotent=False
        )
    assert upstream.calls == 1


@pytest.mark.usefixtures("three_attempts")
async def test_no_retry_once_the_breaker_opened() -> None:
    upstream = Upstream(5, ConnectionError("refused"))
    breaker = CircuitBreaker("t", failure_threshold=2)
    with pytest.raises(ConnectionError):
        await call_with_retry(POLICY, breaker, upstream, retryable=retryable, idempotent=True)
    assert upstream.calls == 2  # the second failure opened it: no third attempt
    assert breaker.state is BreakerState.OPEN
    with pytest.raises(BreakerOpenError):
        await call_with_retry(POLICY, breaker, upstream, retryable=retryable, idempotent=True)
    assert upstream.calls == 2  # open: not even one call


def test_the_suite_runs_without_retries() -> None:
    assert stamina.is_testing()


@pytest.fixture
def real_waits() -> Iterator[list[RetryDetails]]:
    scheduled: list[RetryDetails] = []
    with stamina.set_testing(False):
        set_on_retry_hooks([scheduled.append])
        try:
            yield scheduled
        finally:
            set_on_retry_hooks(None)


async def test_backoff_grows_exponentially_up_to_its_cap(
    real_waits: list[RetryDetails],
) -> None:
    policy = RetryPolicy(attempts=6, timeout=5.0, wait_initial=0.002, wait_max=0.008, wait_jitter=0)
    upstream = Upstream(10, ConnectionError("refused"))
    with pytest.raises(ConnectionError):
        await call_with_retry(
            policy, CircuitBreaker("t", 10), upstream, retryable=retryable, idempotent=True
        )
    assert upstream.calls == 6
    assert [round(d.wait_for, 4) for d in real_waits] == [0.002, 0.004, 0.008, 0.008, 0.008]


async def test_jitter_stays_within_its_bound(real_waits: list[RetryDetails]) -> None:
    # stamina adds up to `wait_jitter` to each exponential step, then caps at `wait_max`.
    policy = RetryPolicy(
        attempts=4, timeout=5.0, wait_initial=0.001, wait_max=0.05, wait_jitter=0.003
    )
    for _ in range(5):
        with pytest.raises(ConnectionError):
            await call_with_retry(
                policy,
                CircuitBreaker("t", 10),
                Upstream(10, ConnectionError()),
                retryable=retryable,
                idempotent=True,
            )
    steps = [0.001, 0.002, 0.004] * 5
    waits = [d.wait_for for d in real_waits]
    assert len(waits) == len(steps)
    assert all(step <= wait <= step + 0.003 for step, wait in zip(steps, waits, strict=True))
    assert any(wait > step for step, wait in zip(steps, waits, strict=True))  # jittered


async def test_the_total_time_is_bounded(real_waits: list[RetryDetails]) -> None:
    policy = RetryPolicy(
        attempts=100, timeout=0.15, wait_initial=0.05, wait_max=0.05, wait_jitter=0
    )
    started = time.monotonic()
    with pytest.raises(ConnectionError):
        await call_with_retry(
            policy,
            CircuitBreaker("t", 1000),
            Upstream(1000, ConnectionError()),
            retryable=retryable,
            idempotent=True,
        )
    assert time.monotonic() - started < 0.5
    assert len(real_waits) <= 4
