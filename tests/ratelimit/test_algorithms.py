"""Every algorithm, exact at its boundaries, on both backends, with a clock that never sleeps
(on Redis: the production scripts deciding at the test clock's instants, see ClockedRedisBackend).
"""

from __future__ import annotations

import random

import pytest

from example_service.ratelimit.base import Decision, Policy, RateLimitBackend
from example_service.ratelimit.memory import MemoryBackend
from example_service.redis.client import RedisLayer
from tests.ratelimit.conftest import ClockedRedisBackend, FakeClock


def state(d: Decision) -> tuple[bool, int, int, int, int]:
    return (d.allowed, d.limit, d.remaining, d.reset_at_epoch, d.retry_after)


async def hits(backend: RateLimitBackend, policy: Policy, n: int, key: str = "k") -> list[bool]:
    return [(await backend.hit(key, policy)).allowed for _ in range(n)]


async def test_fixed_window_is_exact_at_its_edges(
    backend: RateLimitBackend, clock: FakeClock
) -> None:
    policy = Policy("fixed", limit=3, window=10)
    clock.now = 1000.0  # the window [1000, 1010)
    assert [state(await backend.hit("k", policy)) for _ in range(3)] == [
        (True, 3, 2, 1010, 0),
        (True, 3, 1, 1010, 0),
        (True, 3, 0, 1010, 0),
    ]
    assert state(await backend.hit("k", policy)) == (False, 3, 0, 1010, 10)
    clock.now = 1009.999
    assert state(await backend.hit("k", policy)) == (False, 3, 0, 1010, 1)
    clock.now = 1010.0
    assert state(await backend.hit("k", policy)) == (True, 3, 2, 1020, 0)
    # Another key has its own window.
    assert (await backend.hit("other", policy)).remaining == 2


async def test_fixed_window_cost_counts_units(backend: RateLimitBackend, clock: FakeClock) -> None:
    policy = Policy("cost", limit=5, window=60)
    assert (await backend.hit("k", policy, cost=4)).remaining == 1
    refused = await backend.hit("k", policy, cost=2)
    assert not refused.allowed and refused.remaining == 1
    assert (await backend.hit("k", policy, cost=1)).remaining == 0


async def test_fixed_window_refunds_never_go_below_zero(
    backend: RateLimitBackend, clock: FakeClock
) -> None:
    policy = Policy("refund", limit=2, window=10)
    clock.now = 1000.0
    assert await hits(backend, policy, 3) == [True, True, False]
    assert (await backend.hit("k", policy, cost=-1)).remaining == 1  # one unit given back
    assert await hits(backend, policy, 2) == [True, False]
    clock.now = 1010.0  # a refund arriving after its window rolled over
    assert (await backend.hit("k", policy, cost=-1)).remaining == 2
    assert await hits(backend, policy, 3) == [True, True, False]


async def test_sliding_window_weights_the_previous_window(
    backend: RateLimitBackend, clock: FakeClock
) -> None:
    policy = Policy("sliding", limit=4, window=10, algorithm="sliding_window")
    clock.now = 1000.0
    assert await hits(backend, policy, 4) == [True] * 4
    refused = await backend.hit("k", policy)
    # Full window now; next window starts at 1010 with these 4 weighing 100% and decaying:
    # one more fits when 4 * (10 - e) / 10 <= 3, i.e. 2.5 s into it -> 12.5 s -> 13 s.
    assert state(refused) == (False, 4, 0, 1010, 13)
    clock.now = 1010.0  # a fixed window would reset here; a sliding one does not
    assert not (await backend.hit("k", policy)).allowed
    clock.now = 1012.499
    assert not (await backend.hit("k", policy)).allowed
    clock.now = 1012.5
    assert state(await backend.hit("k", policy)) == (True, 4, 0, 1020, 0)
    clock.now = 1030.0  # two windows later nothing weighs any more
    assert state(await backend.hit("k", policy)) == (True, 4, 3, 1040, 0)


async def test_sliding_window_burst_adds_capacity(
    backend: RateLimitBackend, clock: FakeClock
) -> None:
    policy = Policy("burst", limit=4, window=10, algorithm="sliding_window", burst=2)
    assert await hits(backend, policy, 7) == [True] * 6 + [False]
    assert (await backend.hit("k", policy)).limit == 6


async def test_sliding_window_hourly_limit_binds_across_minutes(
    backend: RateLimitBackend, clock: FakeClock
) -> None:
    policy = Policy("hourly", limit=100, window=60, algorithm="sliding_window", per_hour=5)
    clock.now = 3600.0 * 500  # an hour boundary
    hour_end = int(clock.now) + 3600
    first = await backend.hit("k", policy)
    # The hourly window binds (4 left there vs 99 in the minute): its numbers are reported.
    assert state(first) == (True, 5, 4, hour_end, 0)
    assert await hits(backend, policy, 4) == [True] * 4
    refused = await backend.hit("k", policy)
    # The 5 decay through the next hour: 1 fits once 5 * (1 - e) <= 4, e = 0.2 h -> 4320 s.
    assert state(refused) == (False, 5, 0, hour_end, 4320)
    clock.advance(60)  # a new minute does not help
    assert not (await backend.hit("k", policy)).allowed
    clock.now = 3600.0 * 500 + 4320 - 0.001
    assert not (await backend.hit("k", policy)).allowed
    clock.now = 3600.0 * 500 + 4320
    assert (await backend.hit("k", policy)).allowed


async def test_token_bucket_refills_one_token_per_interval(
    backend: RateLimitBackend, clock: FakeClock
) -> None:
    policy = Policy("bucket", limit=10, window=10, algorithm="token_bucket")
    clock.now = 1000.0
    first = await backend.hit("k", policy)
    assert state(first) == (True, 10, 9, 1001, 0)
    assert await hits(backend, policy, 9) == [True] * 9
    assert state(await backend.hit("k", policy)) == (False, 10, 0, 1010, 1)
    clock.now = 1000.999
    assert not (await backend.hit("k", policy)).allowed
    clock.now = 1001.0  # exactly one token back
    assert state(await backend.hit("k", policy)) == (True, 10, 0, 1011, 0)
    assert not (await backend.hit("k", policy)).allowed
    clock.now = 1021.0  # idle: the bucket is full again, never more than full
    assert await hits(backend, policy, 11) == [True] * 10 + [False]


async def test_token_bucket_burst_is_extra_capacity(
    backend: RateLimitBackend, clock: FakeClock
) -> None:
    policy = Policy("bucket-burst", limit=10, window=10, algorithm="token_bucket", burst=5)
    assert await hits(backend, policy, 16) == [True] * 15 + [False]


# part: redis
@pytest.mark.parametrize("algorithm", ["fixed_window", "sliding_window", "token_bucket"])
async def test_lua_scripts_decide_exactly_like_the_memory_backend(
    redis_layer: RedisLayer, clock: FakeClock, algorithm: str
) -> None:
    policy = Policy(
        f"same-{algorithm}",
        limit=7,
        window=3,
        algorithm=algorithm,  # type: ignore[arg-type]
        burst=2,
        per_hour=40 if algorithm == "sliding_window" else None,
    )
    memory = MemoryBackend(clock)
    redis = ClockedRedisBackend(redis_layer, f"same:{random.random()}:", clock)
    rng = random.Random(4)
    for _ in range(400):
        clock.advance(rng.choice([0, 0, 0.001, 0.05, 0.37, 1, 2.999]))
        key = rng.choice(["a", "b"])
        cost = rng.choice([1, 1, 1, 2, 3])
        expected = state(await memory.hit(key, policy, cost))
        assert state(await redis.hit(key, policy, cost)) == expected, (clock.now, key, cost)


# end part: redis


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="invalid"):
        Policy("bad", limit=0, window=10)
    assert Policy("p", limit=5, window=60, burst=2).policy_pair == (
        b"ratelimit-policy",
        b'"p";q=7;w=60',
    )
