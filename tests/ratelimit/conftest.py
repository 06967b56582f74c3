"""Backends under test: every algorithm test runs against memory and a real Redis."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from example_service.ratelimit.base import RateLimitBackend
from example_service.ratelimit.memory import MemoryBackend
from example_service.ratelimit.redis import RedisBackend
from example_service.redis.client import create_redis
from example_service.settings import RedisSettings
from tests.servers import RedisServer


class FakeClock:
    """Wall-clock seconds that only move when a test says so."""

    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["memory", "redis"])
async def backend(
    request: pytest.FixtureRequest, clock: FakeClock
) -> AsyncIterator[RateLimitBackend]:
    if request.param == "memory":
        yield MemoryBackend(clock)
        return
    server: RedisServer = request.getfixturevalue("redis_server")
    layer = create_redis(RedisSettings(url=server.url))
    assert layer is not None
    try:
        yield RedisBackend(layer, prefix=f"test:{uuid.uuid4().hex}:", clock=clock)
    finally:
        await layer.aclose()
