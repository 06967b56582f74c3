"""Backends under test: every algorithm test runs against each backend (Redis: a real one)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from example_service.ratelimit.base import Decision, Policy, RateLimitBackend
from example_service.ratelimit.memory import MemoryBackend
from example_service.ratelimit.redis import RedisBackend, decision_from
from example_service.redis.client import RedisLayer, create_redis
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


# part: redis
class ClockedRedisBackend(RedisBackend):
    """The production scripts, deciding at the instants of a test clock instead of Redis's TIME.

    In production the scripts read the server's clock and take no time argument (so that no
    instance counts on a clock of its own), and a test cannot set Redis's clock (libfaketime
    and Redis's jemalloc clash). This variant puts a line before the same script bodies that
    reads `now` from an extra last argument: another script, by its own SHA, that production
    never loads. The window-boundary tests thus run production's arithmetic on a real Redis,
    exactly and without sleeping; `test_redis_clock` tests the production clock itself.
    """

    def __init__(self, redis: RedisLayer, prefix: str, clock: FakeClock) -> None:
        super().__init__(redis, prefix)
        self.clock = clock

    def clock_prelude(self) -> str:
        return "local now = tonumber(ARGV[#ARGV])\n"

    def submit(self, key: str, policy: Policy, cost: int = 1) -> asyncio.Future[Decision]:
        script, _, _, constant, _ = self._call(policy, cost)
        args = [*constant, int(self.clock() * 1000)]
        redis_key = f"{self.prefix}{policy.name}:{key}"
        packed = script.packed_call([redis_key], args)
        return self.redis.submit_packed(
            script, packed, (1, redis_key, *args), convert=decision_from
        )


# end part: redis


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


BACKENDS = [
    "memory",
    # part: redis
    "redis",
    # end part: redis
]


@pytest.fixture(params=BACKENDS)
async def backend(
    request: pytest.FixtureRequest, clock: FakeClock
) -> AsyncIterator[RateLimitBackend]:
    # part: redis
    if request.param == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        layer = create_redis(RedisSettings(url=server.url))
        assert layer is not None
        try:
            yield ClockedRedisBackend(layer, f"test:{uuid.uuid4().hex}:", clock)
        finally:
            await layer.aclose()
        return
    # end part: redis
    yield MemoryBackend(clock)
