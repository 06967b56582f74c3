"""Caching: one backend per process, named typed namespaces over it, counters, and the
strategies that use them (see README, Caching)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

from example_service.cache.base import CacheBackend
from example_service.cache.memory import MemoryBackend
from example_service.cache.metrics import CacheMetrics
from example_service.cache.namespace import CacheNamespace

if TYPE_CHECKING:
    from example_service.settings import CacheSettings

M = TypeVar("M", bound=BaseModel)

__all__ = ["Cache", "CacheBackend", "CacheNamespace", "build_cache"]


class Cache:
    """What the app holds on `app.state.cache`: the backend and its namespaces."""

    def __init__(
        self,
        backend: CacheBackend,
        settings: CacheSettings,
        metrics: CacheMetrics,
        shared: CacheBackend | None = None,
    ) -> None:
        self.backend = backend
        # What every process reads alike, with no near copy in front (a two-level backend's
        # shared level). For data whose change must be seen at once everywhere.
        self.shared = backend if shared is None else shared
        self.settings = settings
        self.metrics = metrics
        self._namespaces: dict[str, CacheNamespace[Any]] = {}

    def namespace(
        self, name: str, model: type[M], ttl: float | None = None, *, near: bool = True
    ) -> CacheNamespace[M]:
        """The namespace `name` for values of `model` (one per name and model); `near=False`
        keeps its entries out of a two-level backend's near cache (`shared`)."""
        found = self._namespaces.get(name)
        if found is not None:
            if found.model is not model:
                raise ValueError(f"cache namespace {name!r} holds {found.model.__name__}")
            return found
        created: CacheNamespace[M] = CacheNamespace(
            self.backend if near else self.shared,
            prefix=self.settings.prefix,
            name=name,
            model=model,
            ttl=self.settings.default_ttl_seconds if ttl is None else ttl,
            metrics=self.metrics,
        )
        self._namespaces[name] = created
        return created

    async def start(self) -> None:
        """Start what the backend runs beside the requests (two-level: its subscriber)."""
        start = getattr(self.backend, "start", None)  # not part of the backend Protocol
        if start is not None:
            await start()


def backend_kind(settings: CacheSettings, redis_configured: bool) -> str:
    """CACHE_BACKEND with `auto` resolved: two-level with Redis, memory without."""
    if settings.backend == "auto":
        return "two-level" if redis_configured else "memory"
    return settings.backend


def build_cache(settings: CacheSettings, metrics: CacheMetrics | None = None) -> Cache | None:
    """The process's in-process cache from CACHE_*; None when CACHE_ENABLED is false (with
    Redis, the lifespan may swap in a shared one)."""
    if not settings.enabled:
        return None
    backend = MemoryBackend(settings.max_entries, settings.max_bytes)
    return Cache(backend, settings, metrics or CacheMetrics())
