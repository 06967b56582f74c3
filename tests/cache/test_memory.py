"""The in-process backend and the namespace layer over it."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from example_service.cache import Cache
from example_service.cache.memory import MemoryBackend
from example_service.cache.metrics import CacheMetrics
from example_service.cache.namespace import schema_version
from example_service.settings import CacheSettings
from tests.ratelimit.conftest import FakeClock


class Item(BaseModel):
    id: int
    name: str


class ItemV2(BaseModel):
    id: int
    name: str
    price: int = 0


async def test_expiry_lru_and_bytes() -> None:
    clock = FakeClock(0.0)
    backend = MemoryBackend(max_entries=2, max_bytes=10, clock=clock)
    await backend.set("a", b"1234", ttl=5)
    await backend.set("b", b"5678", ttl=5)
    assert await backend.get("a") == b"1234"  # a is now the most recently used
    await backend.set("c", b"90", ttl=5)  # over 2 entries: b, the least recently used, goes
    assert await backend.get_many(["a", "b", "c"]) == [b"1234", None, b"90"]
    await backend.set("d", b"abcdef", ttl=5)  # 4 + 2 + 6 bytes > 10: out with the oldest
    assert len(backend) <= 2 and backend.evictions == 2
    clock.advance(5)
    assert await backend.get("d") is None  # expired


async def test_tags_incr_and_clear() -> None:
    backend = MemoryBackend()
    await backend.set("p:1", b"x", ttl=60, tags=["t"])
    await backend.set("p:2", b"y", ttl=60, tags=["t", "u"])
    await backend.set("q:3", b"z", ttl=60)
    assert await backend.delete_tag("t") == 2
    assert await backend.get_many(["p:1", "p:2", "q:3"]) == [None, None, b"z"]
    assert await backend.delete_tag("u") == 0  # the key went with its other tag
    assert await backend.incr("n") == 1
    assert await backend.incr("n", 4) == 5
    assert await backend.clear("q:") == 1
    assert (await backend.stats())["entries"] == 1


async def test_a_value_larger_than_the_cache_is_not_kept() -> None:
    backend = MemoryBackend(max_bytes=4)
    await backend.set("k", b"old", ttl=60)
    await backend.set("k", b"much too long", ttl=60)
    assert await backend.get("k") is None  # and no stale older value either


async def test_namespaces_are_typed_versioned_and_counted() -> None:
    metrics = CacheMetrics()
    cache = Cache(MemoryBackend(), CacheSettings(), metrics)
    items = cache.namespace("items", Item, ttl=60)
    assert await items.get("1") is None
    await items.set("1", Item(id=1, name="one"), tags=["all"])
    assert await items.get("1") == Item(id=1, name="one")
    assert items.key("1") == f"cache:items.v{schema_version(Item)}:1"
    assert schema_version(Item) != schema_version(ItemV2)  # a new shape reads no old entry
    await items.delete_tag("all")
    assert await items.get("1") is None
    assert metrics.snapshot() == {"items": {"hits": 1, "misses": 2, "errors": 0}}
    assert cache.namespace("items", Item) is items
    with pytest.raises(ValueError, match="holds Item"):
        cache.namespace("items", ItemV2)
