"""The cache backend Protocol: bytes under string keys, with a time to live and tags.

A backend stores what the codec made (JSON bytes, never pickle). Keys arrive fully prefixed
(`CACHE_PREFIX` + namespace + key, see namespace.py). A backend that cannot answer raises
`BackendUnavailable` (resilience/errors.py), which the namespace layer turns into a miss: the cache
fails open, never into a 5xx.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol


class CacheBackend(Protocol):
    kind: str  # "memory", "redis", "two-level": for `cache stats` and logs

    async def get(self, key: str) -> bytes | None: ...

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]: ...

    async def set(self, key: str, value: bytes, ttl: float, tags: Sequence[str] = ()) -> None: ...

    async def set_many(
        self, items: Mapping[str, bytes], ttl: float, tags: Sequence[str] = ()
    ) -> None: ...

    async def delete(self, *keys: str) -> None: ...

    async def delete_tag(self, tag: str) -> int:
        """Delete every key set with `tag`; how many."""
        ...

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        """Add `amount` to the integer at `key` (0 when absent); `ttl` applies when created."""
        ...

    async def clear(self, prefix: str) -> int:
        """Delete every key under `prefix`; how many (for `example-service cache clear`)."""
        ...

    async def stats(self) -> dict[str, int | str]: ...

    async def aclose(self) -> None: ...
