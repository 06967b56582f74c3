"""Cache-aside: read the cache, on a miss load from the source and store the result.

Stampede protection: concurrent misses of one key in this process share one load (single
flight). Across processes, an optional short lock in the cache backend (`lock_seconds`) lets
one process load while the others wait a little for its result instead of all hitting the
source; if the holder is slow or gone, the lock expires and a waiter loads itself.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from pydantic import BaseModel

from example_service.cache.namespace import CacheNamespace
from example_service.resilience.errors import BackendUnavailable

M = TypeVar("M", bound=BaseModel)
Loader = Callable[[], Awaitable[M]]


class CacheAside(Generic[M]):
    def __init__(
        self,
        namespace: CacheNamespace[M],
        *,
        lock_seconds: float | None = None,
        poll_seconds: float = 0.02,
    ) -> None:
        self.namespace = namespace
        self.lock_seconds = lock_seconds
        self.poll_seconds = poll_seconds
        self._inflight: dict[str, asyncio.Future[M]] = {}
        self.loads = 0  # how many times the source was called (tests, stats)

    async def get(
        self,
        key: str,
        load: Loader[M],
        *,
        ttl: float | None = None,
        tags: Sequence[str] = (),
    ) -> M:
        cached = await self.namespace.get(key)
        if cached is not None:
            return cached
        inflight = self._inflight.get(key)
        if inflight is not None:
            try:
                return await asyncio.shield(inflight)
            except asyncio.CancelledError:
                if not inflight.cancelled():
                    raise  # this caller was cancelled
                # The loading caller was cancelled, not this one: try again.
                return await self.get(key, load, ttl=ttl, tags=tags)
        future: asyncio.Future[M] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            value = await self._load(key, load, ttl, tags)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: the waiters re-raise it, nobody must log it
            raise
        else:
            future.set_result(value)
            return value
        finally:
            del self._inflight[key]

    async def _load(self, key: str, load: Loader[M], ttl: float | None, tags: Sequence[str]) -> M:
        if self.lock_seconds is not None and not await self._lock(key, self.lock_seconds):
            # Another process loads it: wait for its result, at most as long as its lock.
            waited = 0.0
            while waited < self.lock_seconds:
                await asyncio.sleep(self.poll_seconds)
                waited += self.poll_seconds
                cached = await self.namespace.get(key)
                if cached is not None:
                    return cached
        self.loads += 1
        value = await load()
        await self.namespace.set(key, value, ttl=ttl, tags=tags)
        if self.lock_seconds is not None:
            await self._unlock(key)
        return value

    async def _lock(self, key: str, seconds: float) -> bool:
        try:
            taken = await self.namespace.backend.incr(
                self.namespace.key(key) + ":lock", 1, ttl=seconds
            )
        except BackendUnavailable:
            return True  # fail open: no lock to be had, load
        return taken == 1

    async def _unlock(self, key: str) -> None:
        with contextlib.suppress(BackendUnavailable):  # else it expires by itself
            await self.namespace.backend.delete(self.namespace.key(key) + ":lock")
