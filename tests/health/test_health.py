from __future__ import annotations

import asyncio

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from fastapi.routing import APIRoute

from example_service.app import create_app
from example_service.health.probes import Dependency, check_dependencies, overall
from example_service.resilience.breaker import CircuitBreaker
from example_service.settings import DatabaseSettings, SecuritySettings
from tests.conftest import SettingsFactory
from tests.servers import PostgresServer


async def test_legacy_health_is_exactly_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.content == b'{"status":"ok"}'


def test_probes_are_matched_before_the_domain_routes(app: FastAPI) -> None:
    # Routing tries routes in order: a probe behind the API routes would try them all first.
    paths = [route.path for route in app.routes if isinstance(route, APIRoute)]
    assert paths[0] == "/health"
    probes = ["/api/v1/health/live", "/api/v1/health/ready", "/api/v1/health/startup"]
    first_domain = paths.index("/api/v1/users")
    assert all(paths.index(probe) < first_domain for probe in probes)


async def test_live_and_startup(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/health/live")).json() == {"status": "ok"}
    startup = await client.get("/api/v1/health/startup")
    assert startup.status_code == 200
    assert startup.json() == {"status": "ok"}


DB_OK = {"status": "ok", "required": True, "breaker": "closed", "probe": "ok"}


async def test_ready_checks_the_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"db": DB_OK}}


async def _slow() -> None:
    await asyncio.sleep(5)


async def _broken() -> None:
    raise ConnectionError("refused")


async def _fine() -> None:
    return None


async def test_checks_time_out_and_fail_independently() -> None:
    dependencies = [
        Dependency("slow", _slow, required=False),
        Dependency("broken", _broken, required=False),
        Dependency("fine", _fine, required=True),
    ]
    reports = await check_dependencies(dependencies, limit_s=0.05)
    assert {name: r.probe for name, r in reports.items()} == {
        "slow": "timeout",
        "broken": "error",
        "fine": "ok",
    }
    # Optional dependencies down: degraded, never unavailable.
    assert {name: r.status for name, r in reports.items()} == {
        "slow": "degraded",
        "broken": "degraded",
        "fine": "ok",
    }
    assert overall(reports) == "degraded"


async def test_a_required_dependency_down_makes_the_service_unavailable() -> None:
    reports = await check_dependencies(
        [Dependency("db", _broken, required=True), Dependency("cache", _fine, required=False)],
        limit_s=0.05,
    )
    assert reports["db"].status == "unavailable"
    assert overall(reports) == "unavailable"


async def test_an_open_breaker_is_degraded_even_when_the_probe_answers() -> None:
    breaker = CircuitBreaker("db", failure_threshold=1)
    breaker.record_failure()
    reports = await check_dependencies(
        [Dependency("db", _fine, required=True, breaker=breaker)], limit_s=0.05
    )
    assert reports["db"].status == "degraded" and reports["db"].breaker == "open"
    assert overall(reports) == "degraded"


@pytest.mark.postgres
async def test_ready_follows_postgres_down_and_back(
    own_postgres: PostgresServer, make_settings: SettingsFactory
) -> None:
    settings = make_settings(
        database=DatabaseSettings(url=own_postgres.url()),
        security=SecuritySettings(health_timeout_seconds=3.0),
    )
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.get("/api/v1/health/ready")).status_code == 200

            own_postgres.stop()
            down = await client.get("/api/v1/health/ready")
            assert down.status_code == 503
            assert down.json()["status"] == "unavailable"
            assert down.json()["checks"]["db"]["probe"] == "error"
            # liveness does not depend on the database
            assert (await client.get("/api/v1/health/live")).status_code == 200

            own_postgres.start()
            back = await client.get("/api/v1/health/ready")
            assert back.status_code == 200
            assert back.json()["checks"]["db"]["probe"] == "ok"
