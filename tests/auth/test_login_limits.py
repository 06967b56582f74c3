"""Login attempts are limited per account and per client address, before any hashing."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from example_service.settings import DatabaseSettings, RateLimitSettings, Settings
from tests.identity import PASSWORD, Api, security_settings


@pytest.fixture
def identity_settings(make_settings: Callable[..., Settings], migrated_url: str) -> Settings:
    return make_settings(
        database=DatabaseSettings(url=migrated_url),
        security=security_settings(),
        rate_limit=RateLimitSettings(login_per_account=3, login_per_client=5),
    )


async def test_per_account_limit(api: Api) -> None:
    await api.register("target@example.com")
    statuses = [
        (await api.login("target@example.com", "wrong-password")).status_code for _ in range(3)
    ]
    assert statuses == [401, 401, 401]
    refused = await api.login("target@example.com", PASSWORD)  # right password, too late
    assert refused.status_code == 429
    body = refused.json()
    assert body["code"] == "rate_limited"
    assert body["request_id"] == refused.headers["x-request-id"]
    assert int(refused.headers["retry-after"]) > 0
    # another account from the same client is still allowed
    await api.register("other@example.com")
    assert (await api.login("other@example.com")).status_code == 200


async def test_per_client_limit_across_accounts(api: Api, identity_app: FastAPI) -> None:
    for n in range(5):
        assert (await api.login(f"nobody{n}@example.com")).status_code == 401
    assert (await api.login("nobody-else@example.com")).status_code == 429
    # a different client address is counted apart
    async with LifespanManager(identity_app) as manager:
        transport = httpx.ASGITransport(app=manager.app, client=("198.51.100.9", 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as other:
            response = await other.post(
                "/api/v1/auth/login", json={"email": "nobody@example.com", "password": PASSWORD}
            )
    assert response.status_code == 401
