"""Authentication and authorization counted with TELEMETRY_MODE=prometheus: logins by outcome,
credentials by scheme and outcome, denials by status."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from asgi_lifespan import LifespanManager
from prometheus_client import CollectorRegistry

from example_service.app import create_app
from example_service.settings import (
    DatabaseSettings,
    RateLimitSettings,
    Settings,
    TelemetrySettings,
)
from tests.identity import Api, security_settings


@pytest.fixture
async def api(make_settings: Callable[..., Settings], migrated_url: str) -> AsyncIterator[Api]:
    settings = make_settings(
        database=DatabaseSettings(url=migrated_url),
        security=security_settings(),
        telemetry=TelemetrySettings(mode="prometheus", metrics_public=True),
        rate_limit=RateLimitSettings(login_per_account=2),
    )
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield Api(c, app, manager.app)


def count(registry: CollectorRegistry, name: str, **labels: str) -> float:
    value = registry.get_sample_value(name, labels)
    assert value is not None, (name, labels)  # declared at 0 from the start
    return value


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_logins_credentials_and_denials_are_counted(api: Api) -> None:
    registry = api.app.state.telemetry.registry
    assert count(registry, "auth_logins_total", outcome="failed") == 0
    alice = await api.account("alice@example.com")  # one successful login
    bob = await api.account("bob@example.com")
    for _ in range(3):  # two wrong passwords, then the account's limit from this address
        await api.login("alice@example.com", "wrong-password-1")
    assert count(registry, "auth_logins_total", outcome="success") == 2
    assert count(registry, "auth_logins_total", outcome="failed") == 2
    assert count(registry, "auth_logins_total", outcome="limited") == 1

    client = api.client
    assert (await client.get("/api/v1/users/me", headers=alice.auth)).status_code == 200
    bad = {"Authorization": "Bearer not.a.token"}
    assert (await client.get("/api/v1/users/me", headers=bad)).status_code == 401
    key = {"X-API-Key": "es_" + "x" * 43}
    assert (await client.get("/api/v1/users/me", headers=key)).status_code == 401
    assert (await client.get("/api/v1/users/me")).status_code == 401
    assert count(registry, "auth_credentials_total", scheme="bearer", outcome="valid") == 1
    assert count(registry, "auth_credentials_total", scheme="bearer", outcome="invalid") == 1
    assert count(registry, "auth_credentials_total", scheme="api_key", outcome="invalid") == 1
    assert count(registry, "auth_credentials_total", scheme="none", outcome="missing") == 1

    # Alice asking for Bob: a 404 that hides him; listing users: a 403.
    assert (await client.get(f"/api/v1/users/{bob.id}", headers=alice.auth)).status_code == 404
    assert (await client.get("/api/v1/users", headers=alice.auth)).status_code == 403
    assert count(registry, "authz_denials_total", status="404") == 1
    assert count(registry, "authz_denials_total", status="403") == 1
