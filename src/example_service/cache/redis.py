"""The Redis backend: entries shared by every process, through the app's `RedisLayer`.

Every call goes through the layer (breaker, auto-pipelining, timeouts), so concurrent reads
share one round trip and a Redis that is down or silent costs at most the Redis timeout, then
nothing while the breaker is open; every failure arrives as `BackendUnavailable`, which the
namespace layer turns into a miss. Values are the codec's bytes (JSON), stored as they are.

TTLs are in milliseconds (`PX`). Tags are sorted sets (set_tagged.lua): atomic with the
entries they list, pruned as they are written and expiring with their longest-lived entry, so
they never outgrow the entries live at once. `clear` walks the keys with SCAN, in batches,
never KEYS (which blocks the server for the whole keyspace). The scripts touch keys they were
not passed (a tag's members), so this backend wants one Redis server (or a primary behind
Sentinel), not Redis Cluster.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib.resources import files
from typing import Any

from example_service.redis.client import RedisLayer
from example_service.redis.pipeline import Script

SCAN_COUNT = 1000  # keys examined per SCAN call: each call stays well under a millisecond
STATS_MAX_SCANS = 100  # `stats` counts keys in at most this many SCAN calls (100k examined)


def _script(name: str) -> Script:
    return Script(files("example_service.cache").joinpath(name).read_text())


def _ms(seconds: float) -> int:
    # Redis refuses PX 0; a TTL under a millisecond still stores nothing for long.
    return max(1, round(seconds * 1000))


def scan_pattern(prefix: str) -> str:
    """The SCAN MATCH pattern for every key starting with `prefix` (glob characters escaped)."""
    escaped = "".join("\\" + char if char in "*?[]\\" else char for char in prefix)
    return escaped + "*"


class RedisBackend:
    kind = "redis"

    def __init__(self, redis: RedisLayer, prefix: str = "cache:") -> None:
        self.redis = redis
        self.prefix = prefix  # what `stats` counts
        self._set_tagged = _script("set_tagged.lua")
        self._delete_tag = _script("delete_tag.lua")
        self._incr = _script("incr.lua")
        self._get_ttl = _script("get_ttl.lua")

    async def get(self, key: str) -> bytes | None:
        value: bytes | None = await self.redis.execute("GET", key)
        return value

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        if not keys:
            return []
        values: list[bytes | None] = await self.redis.execute("MGET", *keys)
        return values

    async def get_with_ttl(self, keys: Sequence[str]) -> list[tuple[bytes | None, float]]:
        """Each key's value and seconds left to live (inf: no expiry), read at one instant."""
        reply: list[Any] = await self.redis.run_script(self._get_ttl, list(keys), [])
        found: list[tuple[bytes | None, float]] = []
        for value, pttl in zip(reply[::2], reply[1::2], strict=True):
            found.append((value, float("inf") if pttl == -1 else max(pttl, 0) / 1000))
        return found

    async def set(self, key: str, value: bytes, ttl: float, tags: Sequence[str] = ()) -> None:
        if tags:
            await self.set_many({key: value}, ttl, tags)
        else:
            await self.redis.execute("SET", key, value, "PX", _ms(ttl))

    async def set_many(
        self, items: Mapping[str, bytes], ttl: float, tags: Sequence[str] = ()
    ) -> None:
        if not items:
            return
        # One script call: every entry and its tags at once, in one command.
        await self.redis.run_script(
            self._set_tagged,
            [*items, *tags],
            [_ms(ttl), len(items), *items.values()],
        )

    async def delete(self, *keys: str) -> None:
        if keys:
            # UNLINK frees the values' memory off the server's main thread.
            await self.redis.execute("UNLINK", *keys)

    async def delete_tag(self, tag: str) -> int:
        deleted, _ = await self.delete_tag_keys(tag)
        return deleted

    async def delete_tag_keys(self, tag: str) -> tuple[int, list[str]]:
        """`delete_tag`, and the keys the tag listed (for near caches to evict)."""
        deleted, members = await self.redis.run_script(self._delete_tag, [tag], [])
        return int(deleted), [member.decode() for member in members]

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        value = await self.redis.run_script(
            self._incr, [key], [amount, 0 if ttl is None else _ms(ttl)]
        )
        return int(value)

    async def clear(self, prefix: str) -> int:
        if not prefix:
            # Every key of the database, rate-limit counters included: never what is meant.
            raise ValueError("refusing to clear Redis without a key prefix")
        deleted = 0
        cursor: bytes | int = 0
        pattern = scan_pattern(prefix)
        while True:
            cursor, keys = await self.redis.execute(
                "SCAN", cursor, "MATCH", pattern, "COUNT", SCAN_COUNT
            )
            if keys:
                deleted += int(await self.redis.execute("UNLINK", *keys))
            if int(cursor) == 0:
                return deleted

    async def stats(self) -> dict[str, int | str]:
        keys, complete = await self._count(self.prefix)
        memory = parse_info(await self.redis.execute("INFO", "memory"))
        return {
            "backend": self.kind,
            "prefix": self.prefix,
            # Entries and tags under the prefix; a bounded SCAN on a large keyspace.
            "keys": keys if complete else f"at least {keys}",
            "used_memory": int(memory.get("used_memory", 0)),
            "maxmemory": int(memory.get("maxmemory", 0)),
            # noeviction lets a full cache refuse writes (each a counted cache error).
            "maxmemory_policy": memory.get("maxmemory_policy", "unknown"),
        }

    async def _count(self, prefix: str) -> tuple[int, bool]:
        count = 0
        cursor: bytes | int = 0
        pattern = scan_pattern(prefix)
        for _ in range(STATS_MAX_SCANS):
            cursor, keys = await self.redis.execute(
                "SCAN", cursor, "MATCH", pattern, "COUNT", SCAN_COUNT
            )
            count += len(keys)
            if int(cursor) == 0:
                return count, True
        return count, False

    async def aclose(self) -> None:
        """Nothing to close: the Redis layer is the app's, closed by the lifespan."""


def parse_info(raw: bytes) -> dict[str, str]:
    """INFO's `name:value` lines as a dict (comments and blank lines skipped)."""
    fields: dict[str, str] = {}
    for line in raw.decode(errors="replace").splitlines():
        name, sep, value = line.partition(":")
        if sep and not name.startswith("#"):
            fields[name] = value.strip()
    return fields
