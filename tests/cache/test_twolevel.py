"""Two levels across processes: every write reaches every near cache, well within its TTL.

Two backends, each on a Redis layer of its own (as two processes have), share one server.
Their near TTL is 30 s, so an entry that leaves a near cache within the test's second was
evicted by an invalidation, not by its age.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import orjson
import pytest

from example_service.cache.twolevel import TwoLevelBackend
from example_service.observability.logging import configure_logging
from example_service.settings import LogSettings
from tests.cache.backends import eventually, layer_for, two_level, unique_prefix
from tests.conftest import LogCapture
from tests.servers import RedisServer

Pair = tuple[TwoLevelBackend, TwoLevelBackend, str]


@pytest.fixture
async def pair(redis_server: RedisServer) -> AsyncIterator[Pair]:
    prefix = unique_prefix()
    async with (
        layer_for(redis_server.url) as layer_a,
        layer_for(redis_server.url) as layer_b,
        two_level(layer_a, prefix) as a,
        two_level(layer_b, prefix) as b,
    ):
        yield a, b, prefix


Write = Callable[[TwoLevelBackend, str], Awaitable[object]]
WRITES: dict[str, Write] = {
    "set": lambda a, key: a.set(key, b"v2", ttl=60),
    "set_many": lambda a, key: a.set_many({key: b"v2"}, ttl=60),
    "delete": lambda a, key: a.delete(key),
    "delete_tag": lambda a, key: a.delete_tag(key.rsplit(":", 1)[0] + ":#tag"),
    "incr": lambda a, key: a.incr(key),
    "clear": lambda a, key: a.clear(key.rsplit(":", 1)[0] + ":"),
}


@pytest.mark.parametrize("write", WRITES)
async def test_a_write_on_one_evicts_the_others_near_copy(pair: Pair, write: str) -> None:
    a, b, p = pair
    key = p + "k"
    await a.set(key, b"1", ttl=60, tags=[p + "#tag"])
    await eventually(lambda: b.invalidations == 1)  # the set's own message, out of the way
    assert await b.get(key) == b"1"
    assert b.near.get_now(key) == b"1"  # b now answers from its near cache
    await WRITES[write](a, key)
    elapsed = await eventually(lambda: b.near.get_now(key) is None, within=1.0)
    assert elapsed < 1.0  # the near TTL is 30 s: the invalidation did it
    assert b.invalidations == 2
    assert await b.get(key) == await a.remote.get(key)  # and b reads what a wrote
    assert a.invalidations == 0  # a skipped its own message


async def test_a_read_racing_an_invalidation_keeps_nothing_near(pair: Pair) -> None:
    a, b, p = pair
    await a.set(p + "k", b"old", ttl=60)
    read = asyncio.ensure_future(b.get(p + "k"))
    await asyncio.sleep(0)  # the read is in flight
    # The invalidation of a write that happened meanwhile arrives before the read's reply.
    b._on_message(orjson.dumps({"from": a.origin, "keys": [p + "k"], "prefixes": []}))
    assert await read == b"old"
    assert b.near.get_now(p + "k") is None  # not kept: it may predate the write
    assert await b.get(p + "k") == b"old"
    assert b.near.get_now(p + "k") == b"old"  # a read with no invalidation in flight is kept


async def test_a_read_racing_its_own_processs_write_keeps_nothing_near(pair: Pair) -> None:
    a, _, p = pair
    await a.set(p + "k", b"old", ttl=60)
    write = asyncio.ensure_future(a.set(p + "k", b"new", ttl=60))
    read = asyncio.ensure_future(a.get(p + "k"))  # starts after the write evicted, before it ran
    assert await read == b"old"  # in the same round trip, ahead of the write
    await write
    assert a.near.get_now(p + "k") is None  # the write evicted again once done
    assert await a.get(p + "k") == b"new"


async def test_the_near_cache_keeps_no_entry_past_its_redis_ttl(pair: Pair) -> None:
    a, b, p = pair
    await a.set(p + "k", b"1", ttl=0.05)
    await eventually(lambda: b.invalidations == 1)
    assert await b.get(p + "k") == b"1"
    assert b.near.get_now(p + "k") == b"1"
    await asyncio.sleep(0.06)
    assert b.near.get_now(p + "k") is None


async def test_an_unreadable_message_is_skipped(pair: Pair, logs: LogCapture) -> None:
    configure_logging(LogSettings())
    a, b, p = pair
    await a.set(p + "k", b"1", ttl=60)
    await eventually(lambda: b.invalidations == 1)
    assert await b.get(p + "k") == b"1"
    await a.remote.redis.execute("PUBLISH", b.channel, b"not json")
    await a.remote.redis.execute("PUBLISH", b.channel, b'{"from": "x", "keys": 3}')
    await a.delete(p + "k")  # the subscriber is still there
    await eventually(lambda: b.near.get_now(p + "k") is None)
    assert len(logs.events("cache.invalidation_unreadable")) == 4  # two each, a and b


async def test_stats_and_a_backend_without_its_subscriber(pair: Pair) -> None:
    a, _, p = pair
    await a.set(p + "k", b"1", ttl=60)
    await a.get(p + "k")
    stats = await a.stats()
    assert stats["backend"] == "two-level"
    assert stats["near_entries"] == 1 and stats["subscribed"] == "yes"
    assert stats["keys"] == 1
    async with two_level(a.remote.redis, p, start=False) as idle:
        assert await idle.get(p + "k") == b"1"
        assert idle.near.get_now(p + "k") is None  # not subscribed: nothing kept near
