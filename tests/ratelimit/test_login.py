"""Login limits, driven as the auth code drives them: a guesser is stopped, the owner is not.

Limits here: 3 failures per account and address, 6 per account, 5 per address; on the
in-process backend and on a real Redis (windows of 10**9 s: no boundary during a test).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from example_service.errors import RateLimitError
from example_service.errors.exceptions import UnauthorizedError
from example_service.ratelimit import RateLimiter, begin_login, login_attempt
from example_service.ratelimit.base import Policy
from example_service.ratelimit.login import account_key
from example_service.redis.client import create_redis
from example_service.settings import RateLimitSettings, RedisSettings, SecuritySettings
from tests.ratelimit.conftest import FakeClock
from tests.servers import RedisServer, free_port

ANN = "ann@example.com"
OWNER_ADDRESS = "203.0.113.7"


def make_limiter(clock: FakeClock, **overrides: Any) -> RateLimiter:
    options: dict[str, Any] = {
        "login_per_account": 3,
        "login_per_account_global": 6,
        "login_per_client": 5,
        "login_window_seconds": 10**9,
        "login_known_address_days": 1,
        "prefix": f"login:{uuid.uuid4().hex}:",
        **overrides,
    }
    return RateLimiter(RateLimitSettings(**options), SecuritySettings(), clock)


BACKENDS = [
    "memory",
    # part: redis
    "redis",
    # end part: redis
]


@pytest.fixture(params=BACKENDS)
async def limiter(request: pytest.FixtureRequest, clock: FakeClock) -> AsyncIterator[RateLimiter]:
    limiter = make_limiter(clock)
    # part: redis
    if request.param == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        layer = create_redis(RedisSettings(url=server.url))
        assert layer is not None
        limiter.use_redis(layer)
        try:
            yield limiter
            assert limiter.fallbacks == 0  # every decision was Redis's
        finally:
            await layer.aclose()
        return
    # end part: redis
    yield limiter


async def attempt(limiter: RateLimiter, email: str, client: str, *, right: bool = False) -> int:
    """One login as the auth route makes it: 429 when refused before the check, else 200 or
    401 as the password is right or wrong."""
    try:
        async with login_attempt(limiter, email, client):
            if not right:
                raise UnauthorizedError
    except RateLimitError:
        return 429
    except UnauthorizedError:
        return 401
    return 200


async def attempts(limiter: RateLimiter, email: str, client: str, n: int, **kw: bool) -> list[int]:
    return [await attempt(limiter, email, client, **kw) for _ in range(n)]


async def test_an_address_is_refused_after_its_own_failures_only(limiter: RateLimiter) -> None:
    spellings = [ANN, "Ann@Example.com", " ann@example.com "]
    assert [await attempt(limiter, email, "198.51.100.1") for email in spellings] == [401] * 3
    with pytest.raises(RateLimitError) as refused:
        await begin_login(limiter, ANN, "198.51.100.1")
    error = refused.value
    assert error.detail == "Too many login attempts; retry later."
    assert error.headers["x-ratelimit-limit"] == "3"
    assert error.headers["ratelimit-policy"] == '"login_account";q=3;w=1000000000'
    assert error.retry_after > 0
    assert error.headers["ratelimit"].endswith(f";t={error.retry_after}")
    # The owner elsewhere, and another account from that address, are unaffected.
    assert await attempt(limiter, ANN, OWNER_ADDRESS, right=True) == 200
    assert await attempt(limiter, "bea@example.com", "198.51.100.1") == 401


async def test_successes_spend_nothing(limiter: RateLimiter) -> None:
    assert await attempts(limiter, ANN, OWNER_ADDRESS, 10, right=True) == [200] * 10
    assert await attempts(limiter, ANN, OWNER_ADDRESS, 4) == [401, 401, 401, 429]


async def test_the_account_ceiling_stops_spread_guessing_but_not_a_known_owner(
    limiter: RateLimiter,
) -> None:
    assert await attempt(limiter, ANN, OWNER_ADDRESS, right=True) == 200  # now known
    for n in range(3):
        assert await attempts(limiter, ANN, f"198.51.100.{n}", 2) == [401, 401]
    # Six failures: any other address is refused, even with the right password...
    with pytest.raises(RateLimitError) as refused:
        await begin_login(limiter, ANN, "198.51.100.99")
    assert refused.value.headers["ratelimit-policy"] == '"login_account_global";q=6;w=1000000000'
    assert await attempt(limiter, ANN, "198.51.100.98", right=True) == 429
    # ...and the owner's known address is held to its own three failures only.
    assert await attempt(limiter, ANN, OWNER_ADDRESS, right=True) == 200
    assert await attempts(limiter, ANN, OWNER_ADDRESS, 4) == [401, 401, 401, 429]


async def test_parallel_guesses_cannot_overshoot(limiter: RateLimiter) -> None:
    results = await asyncio.gather(
        *(begin_login(limiter, ANN, "198.51.100.1") for _ in range(20)), return_exceptions=True
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 3
    assert all(isinstance(r, RateLimitError) for r in results if isinstance(r, BaseException))
    # The 17 refused gave back what they had reserved on the account's ceiling: 3 more
    # failures fit from another address, then the ceiling (6) holds.
    assert await attempts(limiter, ANN, "198.51.100.2", 3) == [401] * 3
    assert await attempt(limiter, ANN, "198.51.100.3") == 429


async def test_refused_attempts_and_errors_spend_nothing(limiter: RateLimiter) -> None:
    for n in range(5):  # the address's limit across accounts
        assert await attempt(limiter, f"user{n}@example.com", "198.51.100.9") == 401
    assert await attempts(limiter, ANN, "198.51.100.9", 10) == [429] * 10
    # An error that says nothing about the password gives the reservation back.
    for _ in range(5):
        with pytest.raises(RuntimeError):
            async with login_attempt(limiter, ANN, "198.51.100.1"):
                raise RuntimeError("database down")
    # Ann's own counters are untouched by all of that.
    assert await attempts(limiter, ANN, "198.51.100.1", 4) == [401, 401, 401, 429]


async def test_window_end_allows_again(clock: FakeClock) -> None:
    limiter = make_limiter(clock, login_window_seconds=900)
    clock.now = 900.0 * 10
    assert await attempts(limiter, ANN, "198.51.100.1", 4) == [401, 401, 401, 429]
    clock.advance(900)
    assert await attempt(limiter, ANN, "198.51.100.1") == 401


async def test_a_known_address_is_forgotten_after_its_days(clock: FakeClock) -> None:
    limiter = make_limiter(clock, login_per_account_global=1)
    assert await attempt(limiter, ANN, OWNER_ADDRESS, right=True) == 200
    assert await attempt(limiter, ANN, "198.51.100.1") == 401  # the ceiling is reached
    clock.advance(86_400 - 1)
    assert await attempt(limiter, ANN, OWNER_ADDRESS, right=True) == 200  # known: renewed
    clock.advance(86_400)
    assert await attempt(limiter, ANN, OWNER_ADDRESS, right=True) == 429


async def test_no_known_addresses_when_their_days_are_zero(clock: FakeClock) -> None:
    limiter = make_limiter(clock, login_per_account_global=1, login_known_address_days=0)
    assert await attempt(limiter, ANN, OWNER_ADDRESS, right=True) == 200
    assert await attempt(limiter, ANN, "198.51.100.1") == 401
    assert await attempt(limiter, ANN, OWNER_ADDRESS, right=True) == 429


# part: redis
async def test_redis_down_counts_and_remembers_in_process(clock: FakeClock) -> None:
    limiter = make_limiter(clock, login_per_account_global=1)
    layer = create_redis(RedisSettings(url=f"redis://127.0.0.1:{free_port()}/0"))
    assert layer is not None
    limiter.use_redis(layer)
    try:
        assert await attempt(limiter, ANN, OWNER_ADDRESS, right=True) == 200
        assert await attempt(limiter, ANN, "198.51.100.1") == 401
        assert await attempt(limiter, ANN, "198.51.100.2") == 429
        assert await attempt(limiter, ANN, OWNER_ADDRESS, right=True) == 200
        assert limiter.fallbacks > 0
    finally:
        await layer.aclose()


# end part: redis


async def test_only_fixed_windows_take_refunds(limiter: RateLimiter) -> None:
    with pytest.raises(ValueError, match="only fixed windows"):
        await limiter.refund("k", Policy("s", limit=1, window=1, algorithm="sliding_window"))


def test_account_keys_hide_the_address() -> None:
    key = account_key("Ann@Example.com")
    assert "ann" not in key and key == account_key("ann@example.com")
