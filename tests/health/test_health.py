from __future__ import annotations

import asyncio

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from fastapi.routing import APIRoute

from example_service.app import create_app
from example_service.health.probes import run_checks
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
    assert startup.json() == {"status": "ok", "checks": {"lifespan": "ok"}}


async def test_ready_checks_the_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"db": "ok"}}


async def test_checks_time_out_and_fail_independently() -> None:
    async def slow() -> None:
        await asyncio.sleep(5)

    async def broken() -> None:
        raise ConnectionError("refused")

    async def fine() -> None:
        return None

    results = await run_checks({"slow": slow, "broken": broken, "fine": fine}, limit_s=0.05)
    assert results == {"slow": "timeout", "broken": "error", "fine": "ok"}


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
            assert down.json() == {"status": "unavailable", "checks": {"db": "error"}}
            # liveness does not depend on the database
            assert (await client.get("/api/v1/health/live")).status_code == 200

            own_postgres.start()
            back = await client.get("/api/v1/health/ready")
            assert back.status_code == 200
            assert back.json()["checks"] == {"db": "ok"}
