"""The IETF `RateLimit` field's `t` against `Retry-After`, for every algorithm, on both backends.

On a refusal both say when a retry can succeed, so they must be the same number; on an allowed
request `t` is the seconds until the quota resets, rounded up from the deciding instant. The
clock starts 0.3 s into a second so that rounding the wrong way shows.
"""

from __future__ import annotations

import pytest

from example_service.ratelimit.base import Algorithm, Policy, RateLimitBackend
from example_service.ratelimit.limiter import RateLimiter, rejection
from example_service.settings import RateLimitSettings, SecuritySettings
from tests.ratelimit.conftest import FakeClock
from tests.ratelimit.helpers import ratelimit_t

ALGORITHMS: list[Algorithm] = ["fixed_window", "sliding_window", "token_bucket"]


@pytest.fixture
def limiter(backend: RateLimitBackend, clock: FakeClock) -> RateLimiter:
    limiter = RateLimiter(RateLimitSettings(), SecuritySettings(), clock)
    limiter.backend = backend
    return limiter


@pytest.mark.parametrize("algorithm", ALGORITHMS)
async def test_t_is_retry_after_on_a_refusal(
    limiter: RateLimiter, clock: FakeClock, algorithm: Algorithm
) -> None:
    # 4 per 8 s: a token every 2 s exactly, no rounding in the bucket's arithmetic.
    policy = Policy(f"t-{algorithm}", limit=4, window=8, algorithm=algorithm)
    clock.now = 1000.3
    for _ in range(4):
        assert (await limiter.hit("k", policy)).allowed
    for step in (0.0, 0.5, 1.0):  # still refused 1.5 s in: the next token comes at 2 s
        clock.advance(step)
        decision = await limiter.hit("k", policy)
        assert not decision.allowed
        headers = limiter.headers(policy, decision)
        error = rejection(decision, headers)
        assert error.headers["Retry-After"] == str(decision.retry_after)
        assert ratelimit_t(headers) == decision.retry_after, (algorithm, clock.now)


@pytest.mark.parametrize(
    ("algorithm", "instants", "expected"),
    [
        # The window [1000, 1010) ends 9.7 s, 4.7 s and 0.05 s after these instants.
        ("fixed_window", [1000.3, 1005.3, 1009.95], [10, 5, 1]),
        ("sliding_window", [1000.3, 1005.3, 1009.95], [10, 5, 1]),
        # A token a second: the bucket is full 1 s after the first hit, 1.5 s after the
        # second (0.5 s later, one token still owed), 1 s after the third (idle, full again).
        ("token_bucket", [1000.3, 1000.8, 1009.95], [1, 2, 1]),
    ],
)
async def test_t_rounds_the_time_to_reset_up(
    limiter: RateLimiter,
    clock: FakeClock,
    algorithm: Algorithm,
    instants: list[float],
    expected: list[int],
) -> None:
    policy = Policy(f"t-up-{algorithm}", limit=10, window=10, algorithm=algorithm)
    seen = []
    for now in instants:
        clock.now = now
        decision = await limiter.hit("k", policy)
        assert decision.allowed
        seen.append(ratelimit_t(limiter.headers(policy, decision)))
    assert seen == expected
