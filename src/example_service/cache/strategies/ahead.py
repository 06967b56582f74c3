"""Refresh-ahead: an entry read in the last part of its life is reloaded in the background.

Entries are stored with the instant after which a read should refresh them (`refresh_fraction`
of the TTL before the end). Such a read still returns the cached value at once, and starts
one background reload per key (not one per read); readers never wait for the source while
the key is warm. A failed reload is logged; the entry lives on until its TTL.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from pydantic import BaseModel

from example_service.cache.namespace import CacheNamespace
from example_service.cache.strategies.aside import CacheAside
from example_service.observability.logging import get_logger

M = TypeVar("M", bound=BaseModel)
logger = get_logger("example_service.cache")


class Stamped(BaseModel, Generic[M]):
    value: M
    refresh_at: float  # epoch seconds: shared by every instance reading the entry


class RefreshAhead(Generic[M]):
    def __init__(
        self,
        namespace: CacheNamespace[Stamped[M]],
        *,
        ttl: float,
        refresh_fraction: float = 0.2,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not 0 < refresh_fraction < 1:
            raise ValueError("refresh_fraction must be between 0 and 1")
        self.namespace = namespace
        self.ttl = ttl
        self.refresh_fraction = refresh_fraction
        self.clock = clock
        self._aside: CacheAside[Stamped[M]] = CacheAside(namespace)
        self._refreshing: dict[str, asyncio.Task[None]] = {}
        self.refreshes = 0

    async def get(
        self, key: str, load: Callable[[], Awaitable[M]], *, tags: Sequence[str] = ()
    ) -> M:
        stamped = await self._aside.get(key, lambda: self._stamp(load), ttl=self.ttl, tags=tags)
        if self.clock() >= stamped.refresh_at and key not in self._refreshing:
            task = asyncio.get_running_loop().create_task(self._refresh(key, load, tags))
            self._refreshing[key] = task
        return stamped.value

    async def _stamp(self, load: Callable[[], Awaitable[M]]) -> Stamped[M]:
        value = await load()
        refresh_at = self.clock() + self.ttl * (1 - self.refresh_fraction)
        return Stamped[M](value=value, refresh_at=refresh_at)

    async def _refresh(
        self, key: str, load: Callable[[], Awaitable[M]], tags: Sequence[str]
    ) -> None:
        try:
            self.refreshes += 1
            await self.namespace.set(key, await self._stamp(load), ttl=self.ttl, tags=tags)
        except Exception as exc:  # noqa: BLE001 - a background reload must not go unobserved
            logger.warning(
                "cache.refresh_failed", cache=self.namespace.name, error=type(exc).__name__
            )
        finally:
            del self._refreshing[key]

    async def aclose(self) -> None:
        """Cancel the reloads in flight (at shutdown)."""
        tasks = list(self._refreshing.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
