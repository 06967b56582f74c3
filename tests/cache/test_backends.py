"""What every backend does alike: memory, Redis, and two-level (near cache + Redis)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest

from example_service.cache.base import CacheBackend
from example_service.cache.memory import MemoryBackend
from example_service.cache.redis import RedisBackend
from example_service.cache.twolevel import TwoLevelBackend
from tests.cache.backends import layer_for, two_level, unique_prefix
from tests.servers import RedisServer

KINDS = [
    "memory",
    # part: redis
    "redis",
    "two-level",
    # end part: redis
]


@pytest.fixture(params=KINDS)
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[CacheBackend]:
    # part: redis
    if request.param != "memory":
        server: RedisServer = request.getfixturevalue("redis_server")
        async with AsyncExitStack() as stack:
            layer = await stack.enter_async_context(layer_for(server.url))
            prefix = unique_prefix()
            if request.param == "redis":
                yield RedisBackend(layer, prefix)
            else:
                yield await stack.enter_async_context(two_level(layer, prefix))
        return
    # end part: redis
    yield MemoryBackend()


@pytest.fixture
def p(backend: CacheBackend) -> str:
    """The test's key prefix (Redis tests share a server)."""
    # part: redis
    if isinstance(backend, TwoLevelBackend):
        return backend.remote.prefix
    if isinstance(backend, RedisBackend):
        return backend.prefix
    # end part: redis
    return "mem:"


async def test_get_set_many_and_delete(backend: CacheBackend, p: str) -> None:
    assert await backend.get(p + "a") is None
    await backend.set(p + "a", b'{"id":1}', ttl=60)
    await backend.set_many({p + "b": b"2", p + "c": b"3"}, ttl=60)
    assert await backend.get(p + "a") == b'{"id":1}'
    assert await backend.get(p + "a") == b'{"id":1}'  # two-level: now from the near cache
    assert await backend.get_many([p + "a", p + "x", p + "c"]) == [b'{"id":1}', None, b"3"]
    assert await backend.get_many([]) == []
    await backend.set(p + "a", b"new", ttl=60)  # overwrites, near cache included
    assert await backend.get(p + "a") == b"new"
    await backend.delete(p + "a", p + "b", p + "missing")
    await backend.delete()
    assert await backend.get_many([p + "a", p + "b", p + "c"]) == [None, None, b"3"]


async def test_tags(backend: CacheBackend, p: str) -> None:
    await backend.set(p + "1", b"x", ttl=60, tags=[p + "#t"])
    await backend.set_many({p + "2": b"y", p + "3": b"z"}, ttl=60, tags=[p + "#t", p + "#u"])
    await backend.set(p + "4", b"w", ttl=60, tags=[p + "#u"])
    await backend.set(p + "5", b"v", ttl=60)
    assert await backend.get(p + "2") == b"y"  # two-level: held near, without its tags
    assert await backend.delete_tag(p + "#t") == 3
    assert await backend.get_many([p + str(i) for i in range(1, 6)]) == [
        None,
        None,
        None,
        b"w",
        b"v",
    ]
    assert await backend.delete_tag(p + "#t") == 0
    assert await backend.delete_tag(p + "#u") == 1  # 2 and 3 went with their other tag


async def test_ttl_in_milliseconds(backend: CacheBackend, p: str) -> None:
    await backend.set(p + "short", b"1", ttl=0.05)
    await backend.set_many({p + "tagged": b"2"}, ttl=0.05, tags=[p + "#t"])
    await backend.set(p + "long", b"3", ttl=60)
    assert await backend.get_many([p + "short", p + "tagged"]) == [b"1", b"2"]  # kept near
    await asyncio.sleep(0.08)
    # Two-level: the near cache keeps an entry no longer than Redis does.
    assert await backend.get_many([p + "short", p + "tagged", p + "long"]) == [None, None, b"3"]


async def test_incr_takes_its_ttl_when_created(backend: CacheBackend, p: str) -> None:
    assert await backend.incr(p + "n", ttl=0.05) == 1
    assert await backend.incr(p + "n", 4, ttl=60) == 5  # the window of the first stays
    assert await backend.get(p + "n") == b"5"
    await asyncio.sleep(0.08)
    assert await backend.incr(p + "n", 2) == 2  # expired: counted afresh
    assert await backend.incr(p + "forever") == 1


async def test_clear_removes_only_the_prefix(backend: CacheBackend, p: str) -> None:
    await backend.set_many({f"{p}users.{i}": b"u" for i in range(30)}, ttl=60)
    await backend.set(p + "items.1", b"i", ttl=60)
    assert await backend.get(p + "users.0") == b"u"
    assert await backend.clear(p + "users.") == 30
    assert await backend.get_many([p + "users.0", p + "items.1"]) == [None, b"i"]
    stats = await backend.stats()
    assert stats["backend"] == backend.kind
