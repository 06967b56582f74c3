"""The cache every process shares, with REDIS_URL: Redis, or two levels (an in-process near
cache in front of Redis). The lifespan builds it once the Redis client is up and swaps it in
for the in-process one `build_cache` made."""

from __future__ import annotations

from typing import TYPE_CHECKING

from example_service.cache import Cache, backend_kind, build_cache
from example_service.cache.base import CacheBackend
from example_service.cache.metrics import CacheMetrics
from example_service.cache.redis import RedisBackend
from example_service.cache.twolevel import CHANNEL, TwoLevelBackend

if TYPE_CHECKING:
    from example_service.redis.client import RedisLayer
    from example_service.settings import CacheSettings


def build_shared_cache(
    settings: CacheSettings, redis: RedisLayer, metrics: CacheMetrics | None = None
) -> Cache | None:
    """The cache CACHE_BACKEND names (auto: two-level); None when CACHE_ENABLED is false. The
    two-level backend's subscriber starts with `Cache.start`."""
    if not settings.enabled:
        return None
    kind = backend_kind(settings, redis_configured=True)
    if kind == "memory":
        return build_cache(settings, metrics)
    backend: CacheBackend
    backend = shared = RedisBackend(redis, settings.prefix)
    if kind == "two-level":
        backend = TwoLevelBackend(
            shared,
            channel=settings.prefix + CHANNEL,
            near_ttl=settings.near_ttl_seconds,
            max_entries=settings.max_entries,
            max_bytes=settings.max_bytes,
        )
    return Cache(backend, settings, metrics or CacheMetrics(), shared)
