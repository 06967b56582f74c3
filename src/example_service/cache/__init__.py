"""Caching: one backend per process (in-process, Redis, or both in two levels), named typed
namespaces over it, counters, and the strategies that use them (see README, Caching)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from example_service.cache.base import CacheBackend
from example_service.cache.memory import MemoryBackend
from example_service.cache.metrics import CacheMetrics
from example_service.cache.namespace import CacheNamespace

if TYPE_CHECKING:
    from example_service.redis.client import RedisLayer
    from example_service.settings import CacheSettings

M = TypeVar("M", bound=BaseModel)

__all__ = ["Cache", "CacheBackend", "CacheNamespace", "build_cache"]


class Cache:
    """What the app holds on `app.state.cache`: the backend and its namespaces."""

    def __init__(
        self, backend: CacheBackend, settings: CacheSettings, metrics: CacheMetrics
    ) -> None:
        self.backend = backend
        self.settings = settings
        self.metrics = metrics
        self._namespaces: dict[str, CacheNamespace[Any]] = {}

    def namespace(self, name: str, model: type[M], ttl: float | None = None) -> CacheNamespace[M]:
        """The namespace `name` for values of `model` (one per name and model)."""
        found = self._namespaces.get(name)
        if found is not None:
            if found.model is not model:
                raise ValueError(f"cache namespace {name!r} holds {found.model.__name__}")
            return found
        created: CacheNamespace[M] = CacheNamespace(
            self.backend,
            prefix=self.settings.prefix,
            name=name,
            model=model,
            ttl=self.settings.default_ttl_seconds if ttl is None else ttl,
            metrics=self.metrics,
        )
        self._namespaces[name] = created
        return created


def build_cache(
    settings: CacheSettings, redis: RedisLayer | None, metrics: CacheMetrics | None = None
) -> Cache | None:
    """The process's cache from CACHE_*; None when CACHE_ENABLED is false."""
    if not settings.enabled:
        return None
    backend: CacheBackend = MemoryBackend(settings.max_entries, settings.max_bytes)
    return Cache(backend, settings, metrics or CacheMetrics())
