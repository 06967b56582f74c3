"""The in-process backend: the embedded default.

Bounded in entries and in bytes (values' sizes), least recently used first out, each entry
with its expiry (checked when read, and swept as room is needed). Tags map to their keys so that
`delete_tag` removes them all. One process only: with several worker processes each has its own
copy, so what one worker invalidates the others still hold until it expires (see README,
Caching).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(slots=True)
class _Entry:
    value: bytes
    expires_at: float
    tags: tuple[str, ...]


class MemoryBackend:
    kind = "memory"

    def __init__(
        self,
        max_entries: int = 10_000,
        max_bytes: int = 64 * 1024 * 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._tags: dict[str, set[str]] = {}
        self._bytes = 0
        self.evictions = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get_now(self, key: str) -> bytes | None:
        """`get` without a coroutine: for the near cache of the two-level backend."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.expires_at <= self.clock():
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return entry.value

    async def get(self, key: str) -> bytes | None:
        return self.get_now(key)

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return [self.get_now(key) for key in keys]

    def set_now(self, key: str, value: bytes, ttl: float, tags: Sequence[str] = ()) -> None:
        if len(value) > self.max_bytes:
            self._drop(key)  # never stored, and no older value left behind
            return
        self._drop(key)
        entry = _Entry(value, self.clock() + ttl, tuple(tags))
        self._entries[key] = entry
        self._bytes += len(value)
        for tag in entry.tags:
            self._tags.setdefault(tag, set()).add(key)
        self._make_room()

    async def set(self, key: str, value: bytes, ttl: float, tags: Sequence[str] = ()) -> None:
        self.set_now(key, value, ttl, tags)

    async def set_many(
        self, items: Mapping[str, bytes], ttl: float, tags: Sequence[str] = ()
    ) -> None:
        for key, value in items.items():
            self.set_now(key, value, ttl, tags)

    def delete_now(self, *keys: str) -> None:
        for key in keys:
            self._drop(key)

    async def delete(self, *keys: str) -> None:
        self.delete_now(*keys)

    def delete_tag_now(self, tag: str) -> int:
        keys = self._tags.pop(tag, set())
        for key in keys:
            self._drop(key)
        return len(keys)

    async def delete_tag(self, tag: str) -> int:
        return self.delete_tag_now(tag)

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        entry = self._entries.get(key)
        if entry is None or entry.expires_at <= self.clock():
            value = amount
            expires_in = ttl if ttl is not None else float("inf")
        else:
            value = int(entry.value) + amount
            expires_in = entry.expires_at - self.clock()
        self.set_now(key, b"%d" % value, expires_in)
        return value

    async def clear(self, prefix: str) -> int:
        keys = [key for key in self._entries if key.startswith(prefix)]
        self.delete_now(*keys)
        return len(keys)

    async def stats(self) -> dict[str, int | str]:
        return {
            "backend": self.kind,
            "entries": len(self._entries),
            "bytes": self._bytes,
            "evictions": self.evictions,
        }

    async def aclose(self) -> None:
        self._entries.clear()
        self._tags.clear()
        self._bytes = 0

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        self._bytes -= len(entry.value)
        for tag in entry.tags:
            keys = self._tags.get(tag)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._tags[tag]

    def _make_room(self) -> None:
        # Expired entries first would need a scan; least recently used first is O(1) each.
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            oldest = next(iter(self._entries))
            self._drop(oldest)
            self.evictions += 1
