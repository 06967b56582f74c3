"""Retries through stamina: bounded attempts and total time, jittered exponential backoff.

Only idempotent calls are retried, only on errors that say the dependency may answer next time
(the caller's `retryable`: connection errors, timeouts, 502/503/504, never a 4xx), and never
once the dependency's breaker is open (the retry would only meet the open breaker). Backoff is
stamina's: a maintained implementation, with a switch that turns retries off in tests
(`stamina.set_testing`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import stamina

from example_service.resilience.breaker import BreakerState, CircuitBreaker

T = TypeVar("T")
Retryable = Callable[[BaseException], bool]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 3  # calls in all, the first included; 1 turns retries off
    timeout: float | None = 5.0  # seconds for all attempts and waits together; None: no bound
    wait_initial: float = 0.05
    wait_max: float = 1.0
    wait_jitter: float = 0.05


async def call_with_retry(
    policy: RetryPolicy,
    breaker: CircuitBreaker,
    function: Callable[[], Awaitable[T]],
    *,
    retryable: Retryable,
    idempotent: bool,
) -> T:
    """Call `function` through `breaker`, retried by `policy` when that is safe."""
    if not idempotent or policy.attempts <= 1:
        return await breaker.call(function, retryable)

    def again(exc: Exception) -> bool:
        return retryable(exc) and breaker.state is not BreakerState.OPEN

    return await retry_after_first(lambda: breaker.call(function, retryable), policy, again)


async def retry_after_first(
    call: Callable[[], Awaitable[T]], policy: RetryPolicy, on: Callable[[Exception], bool]
) -> T:
    """`call`, retried by `policy` on the errors `on` accepts.

    The first attempt runs outside stamina: a call that succeeds (nearly all of them) does not
    pay the ~16 us of setting up a retry loop (bench/breaker.py). A first failure is replayed as
    stamina's first attempt, so that its attempt count, backoff, total timeout and testing
    switch all apply exactly as if stamina had made the call."""
    try:
        return await call()
    except Exception as exc:
        if not on(exc):
            raise
        replay: Exception | None = exc
    async for attempt in stamina.retry_context(
        on=on,
        attempts=policy.attempts,
        timeout=policy.timeout,
        wait_initial=policy.wait_initial,
        wait_max=policy.wait_max,
        wait_jitter=policy.wait_jitter,
    ):
        with attempt:
            if replay is not None:
                error, replay = replay, None
                raise error
            return await call()
    raise AssertionError("unreachable: stamina re-raises the last error")  # pragma: no cover
