"""Redis restarted, killed or frozen: the cache fails open, fast, and serves nothing it could
have missed an invalidation for."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator

import pytest
import stamina
from pydantic import BaseModel

from example_service.cache import Cache
from example_service.cache.base import CacheBackend
from example_service.cache.metrics import CacheMetrics
from example_service.cache.namespace import CacheNamespace
from example_service.cache.redis import RedisBackend
from example_service.cache.twolevel import TwoLevelBackend
from example_service.resilience.breaker import BreakerState, CircuitBreaker
from example_service.settings import CacheSettings
from tests.cache.backends import eventually, layer_for, two_level, unique_prefix
from tests.servers import RedisServer

TIMEOUT = 0.1


class Item(BaseModel):
    id: int


@pytest.fixture(params=["redis", "two-level"])
async def backend(
    request: pytest.FixtureRequest, own_redis: RedisServer
) -> AsyncIterator[CacheBackend]:
    breaker = CircuitBreaker("redis", 3, 60.0)
    async with layer_for(own_redis.url, TIMEOUT, breaker) as layer:
        if request.param == "redis":
            yield RedisBackend(layer, "cache:")
            return
        async with two_level(layer, "cache:") as backend:
            backend.subscriber.ping_every = 0.05  # a silent server is given up in 0.15 s
            yield backend


async def _items(backend: CacheBackend, metrics: CacheMetrics) -> CacheNamespace[Item]:
    items = Cache(backend, CacheSettings(), metrics).namespace("items", Item, ttl=60)
    await items.set("1", Item(id=1))
    if isinstance(backend, TwoLevelBackend):  # wait out its own message, then hold 1 near
        assert await items.get("1") == Item(id=1)
        assert backend.near.get_now(items.key("1")) is not None
    return items


async def _timed_get(items: CacheNamespace[Item], key: str) -> tuple[Item | None, float]:
    started = time.monotonic()
    value = await items.get(key)
    return value, time.monotonic() - started


async def test_a_killed_redis_turns_reads_into_misses(
    backend: CacheBackend, own_redis: RedisServer
) -> None:
    metrics = CacheMetrics()
    items = await _items(backend, metrics)
    own_redis.stop()
    if isinstance(backend, TwoLevelBackend):
        await eventually(lambda: not backend.subscriber.subscribed)
        assert len(backend.near) == 0  # emptied with the lost subscription
    reads = [await _timed_get(items, "1") for _ in range(5)]
    assert [value for value, _ in reads] == [None] * 5
    assert max(elapsed for _, elapsed in reads) < TIMEOUT  # refused at once
    await items.set("2", Item(id=2))  # a no-op, no exception
    assert await items.delete("1") is False
    assert metrics.errors["items"] == 7


async def test_a_frozen_redis_costs_its_timeout_then_nothing(
    backend: CacheBackend, own_redis: RedisServer
) -> None:
    assert own_redis.process is not None
    metrics = CacheMetrics()
    items = await _items(backend, metrics)
    os.kill(own_redis.process.pid, signal.SIGSTOP)
    try:
        reads = [await _timed_get(items, "2") for _ in range(6)]
        if isinstance(backend, TwoLevelBackend):
            # Held near until the subscriber finds the server silent, then a miss.
            await eventually(lambda: not backend.subscriber.subscribed, within=1.0)
            assert len(backend.near) == 0
        after = [await _timed_get(items, "1") for _ in range(3)]
    finally:
        os.kill(own_redis.process.pid, signal.SIGCONT)
    assert [value for value, _ in reads + after] == [None] * 9
    assert all(elapsed < TIMEOUT + 0.1 for _, elapsed in reads), reads  # at most the timeout
    assert max(elapsed for _, elapsed in reads[3:] + after) < 0.01  # the breaker is open
    assert isinstance(backend, RedisBackend | TwoLevelBackend)
    redis = backend.redis if isinstance(backend, RedisBackend) else backend.remote.redis
    assert redis.breaker.state is BreakerState.OPEN
    assert metrics.errors["items"] == 9


async def test_the_near_cache_is_emptied_when_the_subscriber_comes_back(
    own_redis: RedisServer,
) -> None:
    """After a restart, whatever is near (here an entry slipped in by hand) may predate
    invalidations the subscriber never heard: it goes when the subscription is back."""
    prefix = unique_prefix()
    with stamina.set_testing(False):  # the subscriber's real backoff (short waits here)
        async with (
            layer_for(own_redis.url, breaker=CircuitBreaker("redis", 3, 0.05)) as layer,
            two_level(layer, prefix) as backend,
        ):
            backend.subscriber.wait_initial = 0.02
            backend.subscriber.wait_max = 0.1
            await backend.set(prefix + "k", b"1", ttl=60)
            assert await backend.get(prefix + "k") == b"1"
            assert backend.near.get_now(prefix + "k") == b"1"
            own_redis.stop()
            await eventually(lambda: not backend.subscriber.subscribed)
            assert backend.near.get_now(prefix + "k") is None
            backend.near.set_now(prefix + "k", b"stale", 60)
            attempts = backend.subscriber.attempts
            await asyncio.sleep(0.3)  # down a while
            # A few attempts (backoff 0.02 s doubling up to 0.1 s), not a spinning loop.
            assert 2 <= backend.subscriber.attempts - attempts <= 10
            own_redis.start()
            await eventually(lambda: backend.subscriber.subscriptions == 2, within=3.0)
            assert backend.near.get_now(prefix + "k") is None
            assert await backend.get(prefix + "k") is None  # the restart lost the entry
            await backend.set(prefix + "k", b"2", ttl=60)  # and the layer is back too
            assert await backend.get(prefix + "k") == b"2"
