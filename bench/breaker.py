"""What the resilience wrappers add to a call: `python -m bench.breaker`.

A closed breaker around an awaited call (what every database request and outbound call pays),
the check-and-record pair the session uses, and the retry wrapper of an idempotent call that
succeeds at once (stamina's context: paid by outbound calls only). Per call, best of 5 runs of
200,000 calls each, minus the bare call.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import stamina

from example_service.resilience.breaker import CircuitBreaker
from example_service.resilience.retry import RetryPolicy, call_with_retry

CALLS = 200_000
RUNS = 5


async def dependency() -> int:
    return 1


def never(_exc: BaseException) -> bool:
    return False


async def per_call(body: Callable[[], Awaitable[object]]) -> float:
    best = float("inf")
    for _ in range(RUNS):
        started = time.perf_counter()
        for _ in range(CALLS):
            await body()
        best = min(best, time.perf_counter() - started)
    return best / CALLS * 1e6


async def main() -> None:
    breaker = CircuitBreaker("bench", failure_threshold=5)
    policy = RetryPolicy()

    async def bare() -> object:
        return await dependency()

    async def through_call() -> object:
        return await breaker.call(dependency, never)

    async def check_and_record() -> object:
        breaker.check()
        result = await dependency()
        breaker.record_success()
        return result

    async def retried() -> object:
        return await call_with_retry(policy, breaker, dependency, retryable=never, idempotent=True)

    base = await per_call(bare)
    print(f"bare call:                      {base:.3f} us")
    for name, body in (
        ("breaker.call (closed)", through_call),
        ("check + record_success", check_and_record),
        ("call_with_retry (idempotent)", retried),
    ):
        cost = await per_call(body)
        print(f"{name:31} {cost:.3f} us  (+{cost - base:.3f} us)")


if __name__ == "__main__":
    stamina.set_testing(False)
    asyncio.run(main())
