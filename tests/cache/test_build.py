"""The in-process cache `build_cache` makes from CACHE_* (the shared ones: test_build_shared)."""

from __future__ import annotations

from example_service.cache import build_cache
from example_service.cache.memory import MemoryBackend
from example_service.settings import CacheSettings


async def test_the_in_process_backend_is_built_with_the_settings_limits() -> None:
    cache = build_cache(CacheSettings(max_entries=7, max_bytes=4096, prefix="p:"))
    assert cache is not None
    assert isinstance(cache.backend, MemoryBackend)
    assert (cache.backend.max_entries, cache.backend.max_bytes) == (7, 4096)
    assert cache.shared is cache.backend
    assert cache.namespace("users", CacheSettings).prefix.startswith("p:users.v")
    await cache.backend.aclose()


def test_a_disabled_cache_is_none() -> None:
    assert build_cache(CacheSettings(enabled=False)) is None
