"""Login limits over HTTP: failed attempts are limited per account and address, per account and
per address, before any hashing; others' failures do not lock the owner out. On each backend."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from example_service.settings import DatabaseSettings, RateLimitSettings, RedisSettings, Settings
from tests.identity import PASSWORD, Api, security_settings

OWNER = "target@example.com"


BACKENDS = [
    "memory",
    # part: redis
    "redis",
    # end part: redis
]


@pytest.fixture(params=BACKENDS)
def identity_settings(
    request: pytest.FixtureRequest, make_settings: Callable[..., Settings], migrated_url: str
) -> Settings:
    sections: dict[str, Any] = {}
    # part: redis
    if request.param == "redis":
        sections["redis"] = RedisSettings(url=request.getfixturevalue("redis_server").url)
    # end part: redis
    return make_settings(
        database=DatabaseSettings(url=migrated_url),
        security=security_settings(),
        **sections,
        rate_limit=RateLimitSettings(
            login_per_account=3,
            login_per_account_global=6,
            login_per_client=5,
            # No window boundary during a test, on Redis's clock either.
            login_window_seconds=10**9,
            prefix=f"t{uuid.uuid4().hex}:",
        ),
    )


async def statuses(api: Api, email: str, password: str, times: int) -> list[int]:
    return [(await api.login(email, password)).status_code for _ in range(times)]


async def test_per_account_limit_from_one_address(api: Api) -> None:
    await api.register(OWNER)
    assert await statuses(api, OWNER, "wrong-password", 3) == [401, 401, 401]
    refused = await api.login(OWNER, PASSWORD)  # right password, too late from this address
    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == "rate_limited"
    assert body["request_id"] == refused.headers["x-request-id"]
    assert int(refused.headers["retry-after"]) > 0
    assert refused.headers["ratelimit-policy"] == '"login_account";q=3;w=1000000000'
    # another account from the same client is still allowed
    await api.register("other@example.com")
    assert (await api.login("other@example.com")).status_code == 200


async def test_others_failures_do_not_lock_the_owner_out(api: Api) -> None:
    await api.register(OWNER)
    async with api.from_address("198.51.100.66") as attacker:
        assert await statuses(attacker, OWNER, "guess", 4) == [401, 401, 401, 429]
        assert (await attacker.login(OWNER, PASSWORD)).status_code == 429
    # The owner, from their own address, never seen before: the attacker spent only its own.
    assert (await api.login(OWNER, PASSWORD)).status_code == 200


async def test_distributed_guessing_meets_the_account_ceiling_not_the_known_owner(
    api: Api,
) -> None:
    await api.register(OWNER)
    assert (await api.login(OWNER)).status_code == 200  # this address is now known
    for n in range(3):  # 6 failures from 3 addresses: the account's ceiling
        async with api.from_address(f"198.51.100.{n + 1}") as attacker:
            assert await statuses(attacker, OWNER, f"guess-{n}", 2) == [401, 401]
    for address in ("198.51.100.4", "198.51.100.5"):
        async with api.from_address(address) as fresh:
            refused = await fresh.login(OWNER, PASSWORD)  # even the right password
            assert refused.status_code == 429
            assert refused.headers["ratelimit-policy"] == '"login_account_global";q=6;w=1000000000'
    # The owner, from the address they logged in from before, is held to its own limit only.
    assert await statuses(api, OWNER, PASSWORD, 2) == [200, 200]


async def test_logging_in_does_not_spend_the_budget(api: Api) -> None:
    await api.register(OWNER)
    assert await statuses(api, OWNER, PASSWORD, 5) == [200] * 5
    assert await statuses(api, OWNER, "wrong-password", 4) == [401, 401, 401, 429]


async def test_per_client_limit_across_accounts(api: Api) -> None:
    for n in range(5):
        assert (await api.login(f"nobody{n}@example.com")).status_code == 401
    assert (await api.login("nobody-else@example.com")).status_code == 429
    # a different client address is counted apart
    async with api.from_address("198.51.100.9") as other:
        assert (await other.login("nobody@example.com")).status_code == 401
