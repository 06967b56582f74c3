"""The Redis backend decides on Redis's clock, whatever the application's clock says.

Instances whose clocks disagree must still count one shared limit. These tests drive the
production scripts on a real server, whose clock a test cannot set: they assert behaviour
relative to the server's TIME, with windows long enough (10**9 s, ending in 2033) that no
boundary passes during a test. The scripts' arithmetic at exact boundaries is tested on the
clocked variant (see `ClockedRedisBackend`).
"""

from __future__ import annotations

import uuid

import pytest

from example_service.ratelimit.base import Algorithm, Policy
from example_service.ratelimit.limiter import RateLimiter, rejection
from example_service.redis.client import RedisLayer
from example_service.settings import RateLimitSettings, SecuritySettings
from tests.ratelimit.conftest import FakeClock
from tests.ratelimit.helpers import ratelimit_t

FAR = 10**9


async def redis_now(layer: RedisLayer) -> float:
    seconds, micros = await layer.execute("TIME")
    return int(seconds) + int(micros) / 1_000_000


def limiter_on(layer: RedisLayer, clock: FakeClock, prefix: str) -> RateLimiter:
    limiter = RateLimiter(RateLimitSettings(prefix=prefix), SecuritySettings(), clock)
    limiter.use_redis(layer)
    return limiter


async def test_windows_follow_redis_time_not_the_application_clock(
    redis_layer: RedisLayer,
) -> None:
    # An application clock in 1970: the window must still be the server's current minute.
    limiter = limiter_on(redis_layer, FakeClock(1000.0), f"clock:{uuid.uuid4().hex}:")
    policy = Policy("minute", limit=5, window=60)
    before = await redis_now(redis_layer)
    decision = await limiter.hit("k", policy)
    after = await redis_now(redis_layer)
    assert decision.allowed
    assert int(before // 60 + 1) * 60 <= decision.reset_at_epoch <= int(after // 60 + 1) * 60
    # The delta is from the server's instant too: reset minus its now, rounded up.
    assert decision.reset_at_epoch - after <= decision.reset_after
    assert decision.reset_after <= decision.reset_at_epoch - before + 1
    assert limiter.fallbacks == 0


@pytest.mark.parametrize("algorithm", ["fixed_window", "sliding_window", "token_bucket"])
async def test_skewed_instances_share_one_exact_limit(
    redis_layer: RedisLayer, algorithm: Algorithm
) -> None:
    # Two instances on one Redis, their clocks a whole (long) window apart: counted on each
    # one's own clock they would reset each other's window on every alternate hit.
    prefix = f"skew:{uuid.uuid4().hex}:"
    base = FakeClock(1000.0)
    instances = [
        limiter_on(redis_layer, base, prefix),
        limiter_on(redis_layer, FakeClock(1000.0 + FAR), prefix),
    ]
    policy = Policy(f"skew-{algorithm}", limit=5, window=FAR, algorithm=algorithm)
    allowed = [(await instances[n % 2].hit("k", policy)).allowed for n in range(15)]
    assert allowed == [True] * 5 + [False] * 10


@pytest.mark.parametrize("algorithm", ["fixed_window", "sliding_window", "token_bucket"])
async def test_t_is_retry_after_on_redis_time(
    redis_layer: RedisLayer, algorithm: Algorithm
) -> None:
    limiter = limiter_on(redis_layer, FakeClock(1000.0), f"t:{uuid.uuid4().hex}:")
    policy = Policy(f"t-{algorithm}", limit=2, window=FAR, algorithm=algorithm)
    allowed = [await limiter.hit("k", policy) for _ in range(2)]
    assert all(d.allowed and 0 < d.reset_after <= FAR for d in allowed)
    refused = await limiter.hit("k", policy)
    assert not refused.allowed
    headers = limiter.headers(policy, refused)
    assert rejection(refused, headers).headers["Retry-After"] == str(ratelimit_t(headers))
