"""Login attempts: per account and per client address, called directly as the auth code does."""

from __future__ import annotations

import pytest

from example_service.errors import RateLimitError
from example_service.ratelimit import RateLimiter, check_login_allowed
from example_service.ratelimit.login import account_key
from example_service.settings import RateLimitSettings, SecuritySettings
from tests.ratelimit.conftest import FakeClock


@pytest.fixture
def limiter(clock: FakeClock) -> RateLimiter:
    settings = RateLimitSettings(login_per_account=3, login_per_client=5, login_window_seconds=900)
    return RateLimiter(settings, SecuritySettings(), clock)


async def test_account_limit_applies_whatever_the_spelling(limiter: RateLimiter) -> None:
    for email in ("ann@example.com", "Ann@Example.com", " ann@example.com "):
        await check_login_allowed(limiter, email, "198.51.100.1")
    with pytest.raises(RateLimitError) as refused:
        await check_login_allowed(limiter, "ann@example.com", "198.51.100.2")
    error = refused.value
    assert error.detail == "Too many login attempts; retry later."
    assert error.headers["x-ratelimit-limit"] == "3"
    assert error.headers["ratelimit-policy"] == '"login_account";q=3;w=900'
    assert 0 < error.retry_after <= 900
    # Another account is unaffected.
    await check_login_allowed(limiter, "bea@example.com", "198.51.100.2")


async def test_client_limit_applies_across_accounts(limiter: RateLimiter) -> None:
    for n in range(5):
        await check_login_allowed(limiter, f"user{n}@example.com", "198.51.100.9")
    with pytest.raises(RateLimitError) as refused:
        await check_login_allowed(limiter, "fresh@example.com", "198.51.100.9")
    assert refused.value.headers["ratelimit-policy"] == '"login_client";q=5;w=900'


async def test_window_end_allows_again(limiter: RateLimiter, clock: FakeClock) -> None:
    clock.now = 900.0 * 10
    for _ in range(3):
        await check_login_allowed(limiter, "ann@example.com", None)
    with pytest.raises(RateLimitError):
        await check_login_allowed(limiter, "ann@example.com", None)
    clock.advance(900)
    await check_login_allowed(limiter, "ann@example.com", None)


def test_account_keys_hide_the_address() -> None:
    key = account_key("Ann@Example.com")
    assert "ann" not in key and key == account_key("ann@example.com")
