from __future__ import annotations

import asyncio

import pytest

from example_service.resilience.breaker import BreakerOpenError, BreakerState, CircuitBreaker
from tests.ratelimit.conftest import FakeClock


def test_opens_after_consecutive_failures_then_probes_once() -> None:
    clock = FakeClock(0.0)
    breaker = CircuitBreaker("t", failure_threshold=3, recovery_seconds=5.0, clock=clock)
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()  # a success in between resets the count
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED and breaker.allow()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow()
    clock.advance(4.999)
    assert not breaker.allow()
    clock.advance(0.001)
    assert breaker.allow()  # the one probe
    assert breaker.state is BreakerState.HALF_OPEN
    assert not breaker.allow()  # everyone else keeps falling back while it is out
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED and breaker.allow() and breaker.allow()


def test_failed_probe_reopens_for_a_full_period() -> None:
    clock = FakeClock(0.0)
    breaker = CircuitBreaker("t", failure_threshold=1, recovery_seconds=2.0, clock=clock)
    breaker.record_failure()
    clock.advance(2.0)
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    clock.advance(1.999)
    assert not breaker.allow()
    clock.advance(0.001)
    assert breaker.allow()


async def test_one_trial_among_fifty_concurrent_callers() -> None:
    clock = FakeClock(0.0)
    breaker = CircuitBreaker("t", failure_threshold=1, recovery_seconds=1.0, clock=clock)
    breaker.record_failure()
    clock.advance(1.0)
    calls = 0
    release = asyncio.Event()

    async def dependency() -> str:
        nonlocal calls
        calls += 1
        await release.wait()
        return "ok"

    async def caller() -> str:
        try:
            return await breaker.call(dependency, failure=lambda exc: True)
        except BreakerOpenError:
            return "refused"

    tasks = [asyncio.create_task(caller()) for _ in range(50)]
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    release.set()
    results = await asyncio.gather(*tasks)
    assert calls == 1
    assert results.count("ok") == 1 and results.count("refused") == 49
    assert breaker.state is BreakerState.CLOSED


async def test_a_cancelled_trial_frees_the_slot() -> None:
    clock = FakeClock(0.0)
    breaker = CircuitBreaker("t", failure_threshold=1, recovery_seconds=1.0, clock=clock)
    breaker.record_failure()
    clock.advance(1.0)
    trial = asyncio.create_task(breaker.call(asyncio.Event().wait, failure=lambda exc: True))
    await asyncio.sleep(0)
    assert breaker.state is BreakerState.HALF_OPEN and not breaker.allow()
    trial.cancel()
    with pytest.raises(asyncio.CancelledError):
        await trial
    assert breaker.allow()  # the next caller is the trial now


async def test_errors_that_do_not_count_leave_the_breaker_closed() -> None:
    breaker = CircuitBreaker("t", failure_threshold=1)

    async def refuses() -> None:
        raise ValueError("the caller's own mistake")

    with pytest.raises(ValueError, match="own mistake"):
        await breaker.call(refuses, failure=lambda exc: isinstance(exc, ConnectionError))
    assert breaker.state is BreakerState.CLOSED


def test_opens_on_a_failure_rate_in_the_window() -> None:
    clock = FakeClock(100.0)
    breaker = CircuitBreaker(
        "t", failure_threshold=100, failure_rate=0.5, window_seconds=10, min_calls=10, clock=clock
    )
    for _ in range(5):
        breaker.record_success()
        breaker.record_failure()  # alternating: never two failures in a row
    # 10 calls, 5 failed: half of them.
    assert breaker.state is BreakerState.OPEN


def test_old_calls_leave_the_window() -> None:
    clock = FakeClock(100.0)
    breaker = CircuitBreaker(
        "t", failure_threshold=100, failure_rate=0.5, window_seconds=10, min_calls=4, clock=clock
    )
    for _ in range(3):
        breaker.record_failure()
    clock.advance(11)  # those three are out of the window now
    breaker.record_success()
    breaker.record_success()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED  # 1 of 4 in the window


def test_retry_after_counts_down_and_transitions_are_heard() -> None:
    clock = FakeClock(0.0)
    breaker = CircuitBreaker("t", failure_threshold=1, recovery_seconds=4.0, clock=clock)
    heard: list[tuple[str, str]] = []
    breaker.listeners.append(lambda b, old, new: heard.append((old.value, new.value)))
    assert breaker.retry_after() == 0.0
    breaker.record_failure()
    clock.advance(1.5)
    assert breaker.retry_after() == 2.5
    with pytest.raises(BreakerOpenError) as refused:
        breaker.check()
    assert refused.value.retry_after == 2.5 and refused.value.name == "t"
    clock.advance(2.5)
    breaker.check()
    breaker.record_success()
    assert heard == [("closed", "open"), ("open", "half_open"), ("half_open", "closed")]


def test_invalid_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="threshold"):
        CircuitBreaker("t", failure_threshold=0)
    with pytest.raises(ValueError, match="failure_rate"):
        CircuitBreaker("t", failure_rate=1.5)
