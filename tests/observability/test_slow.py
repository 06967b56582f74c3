"""Slow requests and slow SQL: logged with the route template and the request id, counted,
never with the path's ids or the statement's bound values."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import text

from example_service.app import create_app
from example_service.db.session import DbSession
from example_service.db.slow import operation_of
from example_service.settings import (
    DatabaseSettings,
    LogSettings,
    RateLimitSettings,
    Settings,
    TelemetrySettings,
)
from tests.conftest import LogCapture, SettingsFactory

SECRET = "carol.secret@example.com"


def build(settings: Settings) -> FastAPI:
    app = create_app(settings)

    @app.get("/items/{item_id}")
    async def item(item_id: int, pause: float = 0.0) -> dict[str, int]:
        await asyncio.sleep(pause)
        return {"id": item_id}

    @app.get("/sql")
    async def sql(session: DbSession, pause: float = 0.0) -> dict[str, int]:
        # PostgreSQL sleeps `pause` seconds; the address is a bound value the log must not show.
        statement = text("SELECT 1 FROM pg_sleep(:pause) WHERE :who <> ''")
        rows = await session.execute(statement, {"pause": pause, "who": SECRET})
        return {"rows": len(rows.all())}

    return app


@pytest.fixture
async def client(
    make_settings: SettingsFactory, postgres_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(
        log=LogSettings(slow_request_seconds=0.05),
        database=DatabaseSettings(url=postgres_url, slow_query_seconds=0.05),
        telemetry=TelemetrySettings(mode="prometheus", metrics_public=True),
        rate_limit=RateLimitSettings(enabled=False),
    )
    app = build(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            yield c


async def test_a_slow_request_is_logged_by_route_and_counted(
    client: httpx.AsyncClient, logs: LogCapture
) -> None:
    assert (await client.get("/items/1")).status_code == 200
    assert logs.events("http.slow_request") == []
    slow = await client.get("/items/424242", params={"pause": 0.1})
    [line] = logs.events("http.slow_request")
    assert line["route"] == "/items/{item_id}" and line["method"] == "GET"
    assert line["request_id"] == slow.headers["x-request-id"]
    assert line["duration_ms"] >= 100 and line["threshold_ms"] == 50
    assert "424242" not in str(line)
    metrics = (await client.get("/metrics")).text
    assert 'slow_requests_total{method="GET",route="/items/{item_id}"} 1.0' in metrics


async def test_a_slow_statement_is_logged_without_its_values(
    client: httpx.AsyncClient, logs: LogCapture
) -> None:
    assert (await client.get("/sql")).status_code == 200
    assert logs.events("db.slow_query") == []
    slow = await client.get("/sql", params={"pause": 0.1})
    assert slow.json() == {"rows": 1}
    [line] = logs.events("db.slow_query")
    assert line["operation"] == "SELECT"
    assert "pg_sleep" in line["statement"]
    assert line["request_id"] == slow.headers["x-request-id"]
    assert SECRET not in logs.stream.getvalue().decode()
    metrics = (await client.get("/metrics")).text
    assert 'slow_queries_total{operation="SELECT"} 1.0' in metrics


def test_operations_are_a_bounded_label() -> None:
    assert operation_of("  select 1") == "SELECT"
    assert operation_of("UPDATE users SET x = 1") == "UPDATE"
    assert operation_of("VACUUM") == operation_of("") == "OTHER"


def test_off_when_zero(make_settings: SettingsFactory) -> None:
    settings = make_settings(log=LogSettings(slow_request_seconds=0))
    assert create_app(settings).build_middleware_stack().slow == 0  # type: ignore[attr-defined]
