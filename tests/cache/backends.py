"""Helpers of the cache tests: a key prefix of a test's own, waiting for a condition.
# part: redis

And cache backends on a real Redis: each on a layer of its own (as each process has), under a
key prefix of its own (tests share the session's server).
# end part: redis
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from example_service.cache.redis import RedisBackend
from example_service.cache.twolevel import CHANNEL, TwoLevelBackend
from example_service.redis.client import RedisLayer, create_redis
from example_service.resilience.breaker import CircuitBreaker
from example_service.settings import RedisSettings


def unique_prefix() -> str:
    return f"t{uuid.uuid4().hex[:8]}:"


# part: redis
@asynccontextmanager
async def layer_for(
    url: str, command_timeout: float = 0.25, breaker: CircuitBreaker | None = None
) -> AsyncIterator[RedisLayer]:
    layer = create_redis(RedisSettings(url=url, timeout_seconds=command_timeout), breaker)
    assert layer is not None
    try:
        yield layer
    finally:
        await layer.aclose()


@asynccontextmanager
async def two_level(
    layer: RedisLayer, prefix: str, near_ttl: float = 30.0, start: bool = True
) -> AsyncIterator[TwoLevelBackend]:
    """A started two-level backend. The near TTL is long by default, so that a test sees
    invalidations, not expiry, empty the near cache."""
    backend = TwoLevelBackend(
        RedisBackend(layer, prefix), channel=prefix + CHANNEL, near_ttl=near_ttl
    )
    try:
        if start:
            await backend.start()
            assert backend.subscriber.subscribed
        yield backend
    finally:
        await backend.aclose()


# end part: redis


async def eventually(condition: Callable[[], bool], within: float = 2.0) -> float:
    """Seconds until `condition()` holds (polled every millisecond); fails after `within`."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > within:
            raise AssertionError(f"not true within {within}s")
        await asyncio.sleep(0.001)
    return time.monotonic() - started
