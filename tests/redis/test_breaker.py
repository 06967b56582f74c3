from __future__ import annotations

from example_service.redis.breaker import BreakerState, CircuitBreaker
from tests.ratelimit.conftest import FakeClock


def test_opens_after_consecutive_failures_then_probes_once() -> None:
    clock = FakeClock(0.0)
    breaker = CircuitBreaker(failure_threshold=3, reset_seconds=5.0, clock=clock)
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
    breaker = CircuitBreaker(failure_threshold=1, reset_seconds=2.0, clock=clock)
    breaker.record_failure()
    clock.advance(2.0)
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    clock.advance(1.999)
    assert not breaker.allow()
    clock.advance(0.001)
    assert breaker.allow()
