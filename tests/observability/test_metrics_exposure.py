"""Where /metrics is served: the API port (open or behind a token) or a port of its own; and
production refuses an open /metrics unless told so."""

from __future__ import annotations

import socket

import httpx
import pytest
from asgi_lifespan import LifespanManager

from example_service.app import create_app
from example_service.settings import (
    AppSettings,
    SecuritySettings,
    Settings,
    SettingsError,
    TelemetrySettings,
)
from tests.conftest import SettingsFactory
from tests.servers import free_port

TOKEN = "scrape-token-0123456789"


def _production(telemetry: TelemetrySettings) -> Settings:
    return Settings(
        app=AppSettings(environment="production"),
        security=SecuritySettings(jwt_secret="x" * 40),
        telemetry=telemetry,
    )


def test_production_refuses_an_open_metrics_route() -> None:
    with pytest.raises(SettingsError, match="TELEMETRY_METRICS_PORT"):
        _production(TelemetrySettings(mode="prometheus")).check()
    for allowed in (
        TelemetrySettings(mode="prometheus", metrics_port=9100),
        TelemetrySettings(mode="prometheus", metrics_token=TOKEN),
        TelemetrySettings(mode="prometheus", metrics_public=True),
        TelemetrySettings(mode="noop"),
    ):
        _production(allowed).check()


async def test_the_token_guards_metrics(make_settings: SettingsFactory) -> None:
    telemetry = TelemetrySettings(mode="prometheus", metrics_token=TOKEN)
    app = create_app(make_settings(telemetry=telemetry))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            missing = await client.get("/metrics")
            wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
            right = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    for refused in (missing, wrong):
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["www-authenticate"] == "Bearer"
    assert right.status_code == 200
    assert "http_requests_total" in right.text


async def test_a_port_of_its_own(make_settings: SettingsFactory) -> None:
    port = free_port()
    telemetry = TelemetrySettings(mode="prometheus", metrics_port=port, metrics_host="127.0.0.1")
    app = create_app(make_settings(telemetry=telemetry))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await client.get("/api/v1/info")
            assert (await client.get("/metrics")).status_code == 404  # not on the API port
        async with httpx.AsyncClient() as scraper:
            scraped = await scraper.get(f"http://127.0.0.1:{port}/metrics")
    assert scraped.status_code == 200
    assert 'route="/api/v1/info",status="200"' in scraped.text
    # Stopped with the app: nothing listens any more.
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection(("127.0.0.1", port), timeout=1),
    ):
        pass


async def test_a_taken_metrics_port_names_the_setting(make_settings: SettingsFactory) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        telemetry = TelemetrySettings(
            mode="prometheus", metrics_port=port, metrics_host="127.0.0.1"
        )
        app = create_app(make_settings(telemetry=telemetry))
        with pytest.raises(OSError, match=f"TELEMETRY_METRICS_PORT={port}"):
            async with LifespanManager(app):
                pass


async def test_breaker_states_are_scraped(make_settings: SettingsFactory) -> None:
    app = create_app(make_settings(telemetry=TelemetrySettings(mode="prometheus")))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert 'circuit_breaker_state{breaker="db"} 0.0' in (await client.get("/metrics")).text
            breaker = app.state.db_breaker
            for _ in range(breaker.failure_threshold):
                breaker.record_failure()
            assert 'circuit_breaker_state{breaker="db"} 2.0' in (await client.get("/metrics")).text


async def test_cache_counters_are_scraped(make_settings: SettingsFactory) -> None:
    from pydantic import BaseModel  # noqa: PLC0415

    class Thing(BaseModel):
        id: int

    app = create_app(make_settings(telemetry=TelemetrySettings(mode="prometheus")))
    async with LifespanManager(app):
        things = app.state.cache.namespace("things", Thing)
        await things.get("1")
        await things.set("1", Thing(id=1))
        await things.get("1")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            text = (await client.get("/metrics")).text
    assert 'cache_hits_total{cache="things"} 1.0' in text
    assert 'cache_misses_total{cache="things"} 1.0' in text
