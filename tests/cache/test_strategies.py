"""Cache-aside (and its stampede protection), write-through, refresh-ahead and `@cached`."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from example_service.app import create_app
from example_service.cache import Cache
from example_service.cache.base import CacheBackend
from example_service.cache.memory import MemoryBackend
from example_service.cache.metrics import CacheMetrics
from example_service.cache.redis import RedisBackend
from example_service.cache.strategies import CacheAside, RefreshAhead, Stamped, WriteThrough, cached
from example_service.settings import CacheSettings
from tests.cache.backends import layer_for, two_level
from tests.conftest import SettingsFactory
from tests.ratelimit.conftest import FakeClock
from tests.ratelimit.helpers import client_for, running
from tests.servers import RedisServer


class Item(BaseModel):
    id: int
    name: str


KINDS = [
    "memory",
    # part: redis
    "redis",
    "two-level",
    # end part: redis
]


@pytest.fixture(params=KINDS)
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[Cache]:
    """Every strategy on every backend (Redis ones on the session's real server)."""
    prefix = f"t{uuid.uuid4().hex[:8]}:"
    settings = CacheSettings(prefix=prefix)
    # part: redis
    if request.param != "memory":
        server: RedisServer = request.getfixturevalue("redis_server")
        async with AsyncExitStack() as stack:
            layer = await stack.enter_async_context(layer_for(server.url))
            backend: CacheBackend = (
                RedisBackend(layer, prefix)
                if request.param == "redis"
                else await stack.enter_async_context(two_level(layer, prefix))
            )
            yield Cache(backend, settings, CacheMetrics())
        return
    # end part: redis
    yield Cache(MemoryBackend(), settings, CacheMetrics())


class Source:
    """The system of record: counts reads, can be made slow or failing."""

    def __init__(self) -> None:
        self.rows = {1: Item(id=1, name="one")}
        self.reads = 0
        self.gate: asyncio.Event | None = None
        self.fail = False

    async def read(self, item_id: int) -> Item:
        self.reads += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.fail:
            raise ConnectionError("source down")
        return self.rows[item_id]


async def test_a_stampede_of_100_misses_loads_once(cache: Cache) -> None:
    source = Source()
    source.gate = asyncio.Event()
    aside = CacheAside(cache.namespace("items", Item))
    readers = [asyncio.create_task(aside.get("1", lambda: source.read(1))) for _ in range(100)]
    await asyncio.sleep(0.01)
    source.gate.set()
    results = await asyncio.gather(*readers)
    assert source.reads == 1 and aside.loads == 1
    assert all(result == Item(id=1, name="one") for result in results)
    assert await aside.get("1", lambda: source.read(1)) == Item(id=1, name="one")
    assert source.reads == 1  # a hit


async def test_a_failed_load_fails_its_waiters_and_caches_nothing(cache: Cache) -> None:
    source = Source()
    source.fail = True
    source.gate = asyncio.Event()
    aside = CacheAside(cache.namespace("items", Item))
    readers = [asyncio.create_task(aside.get("1", lambda: source.read(1))) for _ in range(5)]
    await asyncio.sleep(0.01)
    source.gate.set()
    results = await asyncio.gather(*readers, return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results) and source.reads == 1
    source.fail = False
    assert await aside.get("1", lambda: source.read(1)) == Item(id=1, name="one")


async def test_a_cancelled_loader_hands_over_to_a_waiter(cache: Cache) -> None:
    source = Source()
    source.gate = asyncio.Event()
    aside = CacheAside(cache.namespace("items", Item))
    leader = asyncio.create_task(aside.get("1", lambda: source.read(1)))
    await asyncio.sleep(0)
    waiter = asyncio.create_task(aside.get("1", lambda: source.read(1)))
    await asyncio.sleep(0.01)
    leader.cancel()
    await asyncio.sleep(0.01)
    source.gate.set()
    assert await waiter == Item(id=1, name="one")
    assert source.reads == 2


async def test_the_cross_process_lock_lets_one_caller_load(cache: Cache) -> None:
    # Two CacheAside objects share a backend as two processes share Redis.
    source = Source()
    source.gate = asyncio.Event()
    first = CacheAside(cache.namespace("items", Item), lock_seconds=2.0, poll_seconds=0.01)
    second = CacheAside(cache.namespace("items", Item), lock_seconds=2.0, poll_seconds=0.01)
    a = asyncio.create_task(first.get("1", lambda: source.read(1)))
    await asyncio.sleep(0.01)
    b = asyncio.create_task(second.get("1", lambda: source.read(1)))
    await asyncio.sleep(0.05)
    source.gate.set()
    assert await a == await b == Item(id=1, name="one")
    assert source.reads == 1  # the second waited for the first's result


async def test_write_through_is_never_ahead_of_a_failed_write(cache: Cache) -> None:
    items = cache.namespace("items", Item)
    writer = WriteThrough(items)
    await writer.write("1", lambda: _return(Item(id=1, name="one")))
    assert await items.get("1") == Item(id=1, name="one")

    async def failing() -> Item:
        raise ConnectionError("source down")

    with pytest.raises(ConnectionError):
        await writer.write("1", failing)
    assert await items.get("1") == Item(id=1, name="one")  # the truth, still
    await writer.write("1", lambda: _return(Item(id=1, name="uno")))
    assert await items.get("1") == Item(id=1, name="uno")


async def _return(item: Item) -> Item:
    return item


async def test_refresh_ahead_reloads_once_in_the_background(cache: Cache) -> None:
    clock = FakeClock(1000.0)
    source = Source()
    ahead = RefreshAhead(
        cache.namespace("fresh", Stamped[Item]), ttl=100, refresh_fraction=0.2, clock=clock
    )
    assert await ahead.get("1", lambda: source.read(1)) == Item(id=1, name="one")
    clock.advance(79)
    await ahead.get("1", lambda: source.read(1))
    assert source.reads == 1 and ahead.refreshes == 0  # not yet in the last fifth
    clock.advance(2)
    source.rows[1] = Item(id=1, name="new")
    source.gate = asyncio.Event()
    answers = [await ahead.get("1", lambda: source.read(1)) for _ in range(10)]
    assert answers == [Item(id=1, name="one")] * 10  # served at once, from the cache
    source.gate.set()
    await asyncio.sleep(0.01)
    assert ahead.refreshes == 1 and source.reads == 2  # one reload for ten late reads
    assert await ahead.get("1", lambda: source.read(1)) == Item(id=1, name="new")
    await ahead.aclose()


def _app(make_settings: SettingsFactory, source: Source, enabled: bool = True) -> FastAPI:
    app = create_app(make_settings(cache=CacheSettings(enabled=enabled)))

    @app.get("/items/{item_id}")
    @cached("items", key="{item_id}", ttl=60, tags=["catalog"])
    async def read_item(item_id: int) -> Item:
        return await source.read(item_id)

    return app


@pytest.mark.parametrize("enabled", [True, False])
async def test_the_cached_decorator(make_settings: SettingsFactory, enabled: bool) -> None:
    source = Source()
    app = _app(make_settings, source, enabled)
    async with running(app) as asgi, client_for(asgi) as client:
        for _ in range(3):
            response = await client.get("/items/1")
            assert response.json() == {"id": 1, "name": "one"}
        assert source.reads == (1 if enabled else 3)
        if enabled:
            await app.state.cache.namespace("items", Item).delete_tag("catalog")
            await client.get("/items/1")
            assert source.reads == 2
        assert (await client.get("/items/x")).status_code == 422  # validation still FastAPI's
    # The added request parameter is not part of the API.
    parameters = app.openapi()["paths"]["/items/{item_id}"]["get"]["parameters"]
    assert [p["name"] for p in parameters] == ["item_id"]


def test_the_decorator_needs_a_model() -> None:
    with pytest.raises(TypeError, match="pydantic model"):

        @cached("x", key="{a}")
        async def endpoint(a: int) -> dict[str, int]:
            return {"a": a}
