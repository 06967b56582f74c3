"""Write-through: write the source, then the cache; the cache is never ahead of the source.

A failed source write leaves the cache as it was (the old value is still the truth). A cache
that cannot take the new value is told to forget the key instead, so that the next read loads
the truth; if it cannot be told that either (the backend is down), the old entry ends with its
TTL: that is the staleness bound.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from pydantic import BaseModel

from example_service.cache.namespace import CacheNamespace

M = TypeVar("M", bound=BaseModel)


class WriteThrough(Generic[M]):
    def __init__(self, namespace: CacheNamespace[M]) -> None:
        self.namespace = namespace

    async def write(
        self,
        key: str,
        write: Callable[[], Awaitable[M]],
        *,
        ttl: float | None = None,
        tags: Sequence[str] = (),
    ) -> M:
        """Run `write` (the source write, returning the stored value), then cache its result."""
        value = await write()  # raises: the cache is not touched
        if not await self.namespace.set(key, value, ttl=ttl, tags=tags):
            await self.namespace.delete(key)
        return value
