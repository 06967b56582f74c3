"""The Redis backend's own promises: what it stores, tags that stay bounded, SCAN, errors."""

from __future__ import annotations

import asyncio

import pytest

from example_service.cache import redis as cache_redis
from example_service.cache.redis import RedisBackend, scan_pattern
from example_service.redis.client import RedisLayer
from example_service.resilience.errors import BackendUnavailable
from tests.cache.backends import layer_for, unique_prefix
from tests.servers import RedisServer, free_port


@pytest.fixture
async def backend(redis_layer: RedisLayer) -> RedisBackend:
    return RedisBackend(redis_layer, unique_prefix())


async def test_values_are_stored_as_given_with_a_ttl_in_ms(backend: RedisBackend) -> None:
    p, client = backend.prefix, backend.redis.client
    await backend.set(p + "k", b'{"id":1}', ttl=1.5)
    assert await client.get(p + "k") == b'{"id":1}'  # the codec's JSON bytes, no pickle
    assert 1400 < await client.pttl(p + "k") <= 1500
    await backend.set(p + "tiny", b"x", ttl=0.0001)  # under a millisecond: PX 1, not refused
    assert await backend.incr(p + "n", ttl=0.25) == 1
    assert 200 < await client.pttl(p + "n") <= 250
    assert await backend.incr(p + "m") == 1
    assert await client.pttl(p + "m") == -1


async def test_a_tag_expires_with_its_longest_entry(backend: RedisBackend) -> None:
    p, client = backend.prefix, backend.redis.client
    await backend.set(p + "long", b"1", ttl=60, tags=[p + "#t"])
    await backend.set(p + "short", b"2", ttl=1, tags=[p + "#t"])
    assert 59_000 < await client.pttl(p + "#t") <= 60_000  # not shortened by the later entry
    await backend.set(p + "longer", b"3", ttl=120, tags=[p + "#t"])
    assert 119_000 < await client.pttl(p + "#t") <= 120_000


async def test_a_tag_holds_only_live_entries(backend: RedisBackend) -> None:
    """A tag written forever (a hot "all users" tag) does not grow with its history."""
    p, client = backend.prefix, backend.redis.client
    # Long enough that all 50 are alive when counted, even on a loaded machine.
    for i in range(50):
        await backend.set(f"{p}old{i}", b"x", ttl=0.5, tags=[p + "#all"])
    assert await client.zcard(p + "#all") == 50
    await asyncio.sleep(0.55)
    await backend.set(p + "new", b"y", ttl=60, tags=[p + "#all"])
    assert await client.zrange(p + "#all", 0, -1) == [(p + "new").encode()]


async def test_delete_tag_reports_the_keys_it_listed(backend: RedisBackend) -> None:
    p = backend.prefix
    await backend.set_many({p + "a": b"1", p + "b": b"2"}, ttl=60, tags=[p + "#t"])
    await backend.delete(p + "a")
    deleted, keys = await backend.delete_tag_keys(p + "#t")
    assert deleted == 1  # b; a was gone already
    assert sorted(keys) == [p + "a", p + "b"]
    assert await backend.redis.client.exists(p + "#t") == 0


async def test_clear_scans_in_batches(
    backend: RedisBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = backend.prefix
    monkeypatch.setattr(cache_redis, "SCAN_COUNT", 100)
    await backend.set_many({f"{p}x{i}": b"1" for i in range(1200)}, ttl=60)
    await backend.set(p + "y*[1", b"glob", ttl=60)
    await backend.set(p + "yz", b"other", ttl=60)
    commands = backend.redis.pipeline.commands
    assert await backend.clear(p + "y*[") == 1  # glob characters in a prefix match themselves
    assert await backend.get(p + "yz") == b"other"
    assert await backend.clear(p + "x") == 1200
    assert backend.redis.pipeline.commands - commands > 12  # many SCAN calls, never KEYS
    assert await backend.redis.client.dbsize() > 0  # other tests' keys untouched
    with pytest.raises(ValueError, match="without a key prefix"):
        await backend.clear("")


def test_scan_pattern_escapes_globs() -> None:
    assert scan_pattern("cache:a*b?[c]\\") == "cache:a\\*b\\?\\[c\\]\\\\*"


async def test_stats_count_keys_with_a_bounded_scan(
    backend: RedisBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    await backend.set_many({f"{backend.prefix}{i}": b"1" for i in range(30)}, ttl=60)
    stats = await backend.stats()
    assert stats["backend"] == "redis" and stats["keys"] == 30
    assert isinstance(stats["used_memory"], int) and stats["used_memory"] > 0
    assert stats["maxmemory_policy"] == "noeviction"
    monkeypatch.setattr(cache_redis, "SCAN_COUNT", 1)
    monkeypatch.setattr(cache_redis, "STATS_MAX_SCANS", 2)
    assert str((await backend.stats())["keys"]).startswith("at least ")


async def test_every_operation_fails_as_backend_unavailable() -> None:
    async with layer_for(f"redis://127.0.0.1:{free_port()}/0") as layer:
        layer.breaker.failure_threshold = 1000  # each call meets the refused connection
        backend = RedisBackend(layer, "cache:")
        calls = [
            backend.get("k"),
            backend.get_many(["k"]),
            backend.get_with_ttl(["k"]),
            backend.set("k", b"v", 1),
            backend.set("k", b"v", 1, tags=["t"]),
            backend.set_many({"k": b"v"}, 1),
            backend.delete("k"),
            backend.delete_tag("t"),
            backend.incr("k"),
            backend.clear("cache:"),
            backend.stats(),
        ]
        for call in calls:
            with pytest.raises(BackendUnavailable):
                await call
        await backend.aclose()  # nothing of its own to close


async def test_a_wrong_type_is_backend_unavailable(
    backend: RedisBackend, redis_server: RedisServer
) -> None:
    await backend.set(backend.prefix + "text", b"not a number", ttl=60)
    with pytest.raises(BackendUnavailable, match="not an integer"):
        await backend.incr(backend.prefix + "text")
