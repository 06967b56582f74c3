"""The abuse layer in the app: refusals and auth failures ban a client before any routing or
database work; the deny list; the per-client concurrency limit; alerts once per window."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from example_service.app import create_app
from example_service.settings import (
    DatabaseSettings,
    OutboundSettings,
    RateLimitSettings,
    RedisSettings,
    SecuritySettings,
    Settings,
    TelemetrySettings,
)
from tests.conftest import LogCapture
from tests.identity import Api, security_settings
from tests.outbound.upstream import Upstream
from tests.security.conftest import FakeClock
from tests.servers import RedisServer

A, B = "198.18.0.1", "198.18.0.2"
INFO = "/api/v1/info"


class Client:
    def __init__(self, asgi: Any) -> None:
        self.asgi = asgi

    async def get(self, address: str, path: str = INFO, **kw: Any) -> httpx.Response:
        return await self.request("GET", address, path, **kw)

    async def request(self, method: str, address: str, path: str, **kw: Any) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.asgi, client=(address, 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return await c.request(method, path, **kw)


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[Client]:
    async with LifespanManager(app) as manager:
        yield Client(manager.app)


def limited(requests: int) -> RateLimitSettings:
    return RateLimitSettings(requests=requests, burst=0, algorithm="fixed_window")


async def test_rate_limit_refusals_ban_the_client_everywhere(
    make_settings: Callable[..., Settings], logs: LogCapture
) -> None:
    security = SecuritySettings(enable_ddos_protection=True, ban_rate_limit_refusals=3)
    app = create_app(make_settings(rate_limit=limited(2), security=security))
    clock = FakeClock()
    async with running(app) as client:
        app.state.bans.clock = app.state.bans.memory.clock = clock
        statuses = [(await client.get(A)).status_code for _ in range(5)]
        assert statuses == [200, 200, 429, 429, 429]
        assert [r.json()["code"] for r in [await client.get(A)]] == ["client_banned"]
        banned = await client.get(A, "/health")  # exempt from rate limits, not from a ban
        assert banned.status_code == 429
        assert banned.headers["retry-after"] == "60"
        assert banned.headers["content-type"] == "application/problem+json"
        assert banned.json()["retry_after"] == 60
        assert (await client.get(B)).status_code == 200  # another client is served
        clock.advance(59)
        assert (await client.get(A, "/health")).headers["retry-after"] == "1"
        clock.advance(1)
        assert (await client.get(A, "/health")).status_code == 200
    [event] = logs.events("security.banned")
    assert (event["client"], event["reason"], event["ban_level"], event["seconds"]) == (
        A,
        "rate_limit",
        1,
        60,
    )


async def test_a_trusted_proxy_is_never_banned_its_clients_are(
    make_settings: Callable[..., Settings],
) -> None:
    security = SecuritySettings(
        enable_ddos_protection=True, ban_rate_limit_refusals=2, trusted_proxies=["10.0.0.1"]
    )
    app = create_app(make_settings(rate_limit=limited(1), security=security))
    async with running(app) as client:
        # Without X-Forwarded-For the client is the proxy itself: refused, never banned.
        direct = [(await client.get("10.0.0.1")).status_code for _ in range(5)]
        assert direct == [200, 429, 429, 429, 429]
        assert app.state.bans.table == {}
        forwarded = {"X-Forwarded-For": A}
        via = [(await client.get("10.0.0.1", headers=forwarded)).status_code for _ in range(4)]
        assert via == [200, 429, 429, 429]
        assert (await client.get("10.0.0.1", headers=forwarded)).json()["code"] == "client_banned"
        assert list(app.state.bans.table) == [A]


@pytest.fixture
def identity_settings(make_settings: Callable[..., Settings], migrated_url: str) -> Settings:
    security = security_settings(enable_ddos_protection=True, ban_auth_failures=3)
    return make_settings(database=DatabaseSettings(url=migrated_url), security=security)


async def test_auth_failures_ban_and_a_banned_request_costs_no_database_work(api: Api) -> None:
    account = await api.account("owner@example.com")
    async with api.from_address(A) as attacker:
        failures = [(await attacker.login(account.email, "wrong guess")).status_code]
        failures += [(await attacker.login(account.email, "wrong guess")).status_code]
        with api.counting() as seen:
            failures += [(await attacker.login(account.email, "wrong guess")).status_code]
        assert failures == [401, 401, 401]
        assert seen.statements > 0  # a login that is not refused reads the database
        with api.counting() as seen:
            banned = await attacker.client.get("/api/v1/users/me", headers=account.auth)
            relogin = await attacker.login(account.email)
        assert [banned.status_code, relogin.status_code] == [429, 429]
        assert banned.json()["code"] == "client_banned"
        assert (seen.statements, seen.checkouts, seen.commits) == (0, 0, 0)
    # The owner, elsewhere, is served.
    me = await api.client.get("/api/v1/users/me", headers=account.auth)
    assert me.status_code == 200


async def test_the_deny_list_refuses_addresses_and_networks(
    make_settings: Callable[..., Settings],
) -> None:
    security = SecuritySettings(denied_addresses=["198.18.0.0/24", "2001:67c::1"])
    app = create_app(make_settings(security=security))
    async with running(app) as client:
        refused = [await client.get(address) for address in (A, B, "2001:67c::1")]
        assert {r.status_code for r in refused} == {403}
        assert {r.json()["code"] for r in refused} == {"address_denied"}
        assert "retry-after" not in refused[0].headers
        served = [await client.get(address) for address in ("198.18.1.1", "2001:67c::2")]
        assert [r.status_code for r in served] == [200, 200]
    assert app.state.bans is None  # the deny list alone bans nobody


async def test_the_concurrency_limit_counts_requests_in_flight_per_client(
    make_settings: Callable[..., Settings],
) -> None:
    security = SecuritySettings(max_concurrent_per_client=1)
    app = create_app(make_settings(security=security))
    release = asyncio.Event()
    started = asyncio.Event()

    async def slow_body() -> AsyncIterator[bytes]:
        yield b'{"email": "a@example.com", '
        started.set()
        await release.wait()
        yield b'"password": "x"}'

    async with running(app) as client:
        first = asyncio.create_task(
            client.request(
                "POST",
                A,
                "/api/v1/auth/login",
                content=slow_body(),
                headers={"Content-Type": "application/json"},
            )
        )
        await asyncio.wait_for(started.wait(), timeout=10)
        second = await client.get(A, "/health")
        assert second.status_code == 429
        assert second.json()["code"] == "too_many_concurrent_requests"
        assert second.headers["retry-after"] == "1"
        assert (await client.get(B, "/health")).status_code == 200
        release.set()
        assert (await asyncio.wait_for(first, timeout=10)).status_code != 429
        assert (await client.get(A, "/health")).status_code == 200


async def test_sustained_abuse_raises_one_alert_per_window(
    make_settings: Callable[..., Settings], logs: LogCapture
) -> None:
    security = SecuritySettings(
        enable_alerting=True,
        alert_rate_limit_threshold=5,
        alert_total_rate_limit_threshold=8,
        alert_window_seconds=60,
    )
    telemetry = TelemetrySettings(mode="prometheus")
    app = create_app(make_settings(rate_limit=limited(1), security=security, telemetry=telemetry))
    clock = FakeClock(6_000.0)  # the start of a window
    async with running(app) as client:
        app.state.security_alerts.clock = clock
        a = [(await client.get(A)).status_code for _ in range(21)]
        b = [(await client.get(B)).status_code for _ in range(4)]
        assert a == [200] + [429] * 20
        assert b == [200] + [429] * 3
        events = logs.events("security.alert")
        assert [(e["scope"], e["client"], e["count"]) for e in events] == [
            ("client", A, 5),
            ("total", None, 8),
        ]
        clock.advance(60)  # the next window: counting starts over
        for _ in range(20):
            await client.get(A)
    events = logs.events("security.alert")
    assert [(e["scope"], e["client"]) for e in events] == [
        ("client", A),
        ("total", None),
        ("client", A),
        ("total", None),
    ]
    assert {e["kind"] for e in events} == {"rate_limit"}
    assert {e["level"] for e in events} == {"warning"}
    registry = app.state.telemetry.registry
    labels = {"kind": "rate_limit", "scope": "client"}
    assert registry.get_sample_value("security_alerts_total", labels) == 2


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    server = Upstream()
    await server.start()
    yield server
    await server.stop()


async def test_each_alert_is_posted_to_the_webhook_once(
    make_settings: Callable[..., Settings], upstream: Upstream, logs: LogCapture
) -> None:
    security = SecuritySettings(
        enable_alerting=True,
        alert_auth_failure_threshold=3,
        alert_webhook_service="alerts",
        alert_webhook_path="/hooks/security",
    )
    outbound = OutboundSettings(services={"alerts": upstream.url})  # type: ignore[dict-item]
    app = create_app(make_settings(security=security, outbound=outbound))
    async with running(app) as client:
        for _ in range(10):  # an invalid bearer token: 401 each time
            response = await client.get(
                A, "/api/v1/users/me", headers={"Authorization": "Bearer x"}
            )
            assert response.status_code == 401
    [alert] = logs.events("security.alert")
    assert (alert["kind"], alert["scope"], alert["count"]) == ("auth_failure", "client", 3)
    assert [(seen.method, seen.path) for seen in upstream.requests] == [("POST", "/hooks/security")]
    assert upstream.requests[0].headers["idempotency-key"] == alert["id"]


def test_a_webhook_must_name_an_outbound_service(make_settings: Callable[..., Settings]) -> None:
    security = SecuritySettings(enable_alerting=True, alert_webhook_service="pager")
    with pytest.raises(ValueError, match="SECURITY_ALERT_WEBHOOK_SERVICE=pager"):
        create_app(make_settings(security=security))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("ban_durations", "60,0", "ban durations are whole seconds"),
        ("ban_durations", "1m", "ban durations are whole seconds"),
        ("denied_addresses", "10.0.0.0/8,not-an-address", "does not appear to be an IPv4"),
        ("allowed_countries", "FRA", "not an ISO 3166-1"),
    ],
)
def test_settings_refuse_bad_values(
    monkeypatch: pytest.MonkeyPatch, field: str, value: str, message: str
) -> None:
    monkeypatch.setenv(f"SECURITY_{field.upper()}", value)
    with pytest.raises(ValueError, match=message):
        SecuritySettings()


async def test_openapi_declares_the_refusals(make_settings: Callable[..., Settings]) -> None:
    security = SecuritySettings(enable_ddos_protection=True)
    app = create_app(make_settings(security=security))
    async with running(app) as client:
        document = (await client.get(A, "/openapi.json")).json()
    for path in ("/health", "/api/v1/info", "/api/v1/users/me"):
        for operation in document["paths"][path].values():
            assert {"403", "429"} <= set(operation["responses"]), (path, operation["responses"])


# part: redis
async def test_bans_fail_open_to_the_process_while_redis_is_down(
    make_settings: Callable[..., Settings], own_redis: RedisServer, logs: LogCapture
) -> None:
    security = SecuritySettings(
        enable_ddos_protection=True, ban_rate_limit_refusals=3, ban_prefix="abuse-outage:"
    )
    settings = make_settings(
        rate_limit=limited(2), security=security, redis=RedisSettings(url=own_redis.url)
    )
    app = create_app(settings)
    async with running(app) as client:
        assert (await client.get(B)).status_code == 200
        own_redis.stop()
        # Rate limiting and bans both decide in this process: served, refused, then banned.
        statuses = [(await client.get(A)).status_code for _ in range(6)]
        assert statuses == [200, 200, 429, 429, 429, 429]
        assert (await client.get(A, "/health")).json()["code"] == "client_banned"
        assert (await client.get(B, "/health")).status_code == 200
    assert app.state.bans.fallbacks >= 3
    assert logs.events("security.bans_fallback")


# end part: redis


async def test_an_ipv6_client_is_banned_as_its_network(
    make_settings: Callable[..., Settings],
) -> None:
    security = SecuritySettings(enable_ddos_protection=True, ban_rate_limit_refusals=3)
    app = create_app(make_settings(rate_limit=limited(1), security=security))
    async with running(app) as client:
        # Rotating addresses within one /64: each has a rate limit of its own, the /64 one ban.
        for n in range(1, 4):
            address = f"2001:db8:1:2::{n}"
            statuses = [(await client.get(address)).status_code for _ in range(2)]
            assert statuses == [200, 429]
        fresh = await client.get("2001:db8:1:2:ffff::9")
        assert fresh.json()["code"] == "client_banned"
        assert (await client.get("2001:db8:1:3::1")).status_code == 200  # the next /64
    assert list(app.state.bans.table) == ["2001:db8:1:2::/64"]
