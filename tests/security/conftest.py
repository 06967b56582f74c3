from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from example_service.redis.client import RedisLayer, create_redis
from example_service.security.bans import BanPolicy, BanStore
from example_service.security.bans.memory import MemoryBans
from example_service.security.bans.redis import RedisBans
from example_service.settings import RedisSettings
from tests.servers import RedisServer

POLICY = BanPolicy(
    thresholds={"rate_limit": 10, "auth_failure": 20},
    window=60,
    durations=(60, 600, 3600),
    memory=86_400,
)


class FakeClock:
    """Wall-clock seconds that only move when a test says so."""

    def __init__(self, now: float = 1_000_020.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# part: redis
class ClockedRedisBans(RedisBans):
    """The production scripts deciding at a test clock's instants instead of Redis's TIME
    (a test cannot set the server's clock): `now` is read from an extra last argument, by
    another script (its own SHA) that production never loads."""

    def __init__(self, redis: RedisLayer, policy: BanPolicy, prefix: str, clock: FakeClock):
        super().__init__(redis, policy, prefix)
        self.clock = clock

    def clock_prelude(self) -> str:
        return "local now = tonumber(ARGV[#ARGV])\n"

    def now_args(self) -> list[Any]:
        return [int(self.clock() * 1000)]


# end part: redis


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def prefix() -> str:
    """Keys of this test's own on the shared Redis."""
    return f"abuse-{uuid.uuid4().hex[:8]}:"


STORES = [
    "memory",
    # part: redis
    "redis",
    # end part: redis
]


@pytest.fixture(params=STORES)
async def store(
    request: pytest.FixtureRequest, clock: FakeClock, prefix: str
) -> AsyncIterator[BanStore]:
    # part: redis
    if request.param == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        layer = create_redis(RedisSettings(url=server.url))
        assert layer is not None
        try:
            yield ClockedRedisBans(layer, POLICY, prefix, clock)
        finally:
            await layer.aclose()
        return
    # end part: redis
    yield MemoryBans(POLICY, clock)
