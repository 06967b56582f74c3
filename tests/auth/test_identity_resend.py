"""A change the shared cache could not be told of (Redis frozen at that moment) is told again
once Redis answers, instead of leaving a revoked principal valid until its entry expires."""

from __future__ import annotations

import os
import signal

from structlog.testing import capture_logs

from example_service.auth.cache import IdentityCache
from example_service.cache import Cache
from example_service.cache.metrics import CacheMetrics
from example_service.cache.redis import RedisBackend
from example_service.resilience.breaker import CircuitBreaker
from example_service.settings import CacheSettings
from tests.auth.test_identity_cache import SESSION, USER, public
from tests.cache.backends import eventually, layer_for, unique_prefix
from tests.servers import RedisServer


async def test_a_change_redis_missed_is_told_once_it_answers(own_redis: RedisServer) -> None:
    assert own_redis.process is not None
    breaker = CircuitBreaker("redis", 3, 0.2)  # opens on the outage, tries again soon after
    async with layer_for(own_redis.url, 0.1, breaker) as layer:
        settings = CacheSettings(auth="on", prefix=unique_prefix(), auth_ttl_seconds=60)
        backend = RedisBackend(layer, settings.prefix)
        cache = IdentityCache(Cache(backend, settings, CacheMetrics()), principals=True)
        try:
            lookup = await cache.token(USER, SESSION)
            await cache.remember(lookup, public(), token_version=0)
            assert (await cache.token(USER, SESSION)).principal is not None

            os.kill(own_redis.process.pid, signal.SIGSTOP)
            try:
                with capture_logs() as logs:
                    await cache.changed(USER)  # a logout committed while Redis is frozen
                [failed] = [e for e in logs if e["event"] == "auth_cache.invalidation_failed"]
                assert failed["stale_for_at_most_seconds"] == 60
            finally:
                os.kill(own_redis.process.pid, signal.SIGCONT)

            # Redis kept the old entry and generation: without resending, a hit for 60 s.
            with capture_logs() as logs:
                await eventually(lambda: not cache._unsent, within=5.0)
            assert "auth_cache.invalidation_sent" in [e["event"] for e in logs]
            assert (await cache.token(USER, SESSION)).principal is None
        finally:
            await cache.aclose()


async def test_resending_stops_when_the_entries_it_concerns_have_expired(
    own_redis: RedisServer,
) -> None:
    assert own_redis.process is not None
    breaker = CircuitBreaker("redis", 3, 0.05)
    async with layer_for(own_redis.url, 0.05, breaker) as layer:
        settings = CacheSettings(
            auth="on", prefix=unique_prefix(), auth_ttl_seconds=1, default_ttl_seconds=1
        )
        cache = IdentityCache(
            Cache(RedisBackend(layer, settings.prefix), settings, CacheMetrics()), principals=True
        )
        os.kill(own_redis.process.pid, signal.SIGSTOP)
        try:
            await cache.changed(USER)
            assert cache._unsent
            # Redis stays frozen: after the longest TTL nothing stale can remain to be told.
            await eventually(lambda: not cache._unsent, within=4.0)
            assert cache._resender is not None
            await eventually(cache._resender.done, within=1.0)
        finally:
            os.kill(own_redis.process.pid, signal.SIGCONT)
            await cache.aclose()
