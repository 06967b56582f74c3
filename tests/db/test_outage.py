"""PostgreSQL crashes and comes back under traffic: 503s with Retry-After while it is down,
readiness 503 then 200, liveness 200 throughout, and not one 500 (every status is counted)."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable

import httpx
import pytest
from asgi_lifespan import LifespanManager

from example_service.app import create_app
from example_service.db.migrate import alembic_config, upgrade
from example_service.settings import (
    DatabaseSettings,
    RateLimitSettings,
    ResilienceSettings,
    Settings,
)
from tests.identity import PASSWORD, security_settings
from tests.servers import PostgresServer

pytestmark = pytest.mark.postgres

CONNECT_TIMEOUT = 1.0


@pytest.fixture
def settings(own_postgres: PostgresServer, make_settings: Callable[..., Settings]) -> Settings:
    upgrade(alembic_config(own_postgres.url()))
    return make_settings(
        database=DatabaseSettings(
            url=own_postgres.url(),
            connect_timeout_seconds=CONNECT_TIMEOUT,
            pool_timeout_seconds=CONNECT_TIMEOUT,
        ),
        security=security_settings(health_timeout_seconds=2.0),
        resilience=ResilienceSettings(db_failure_threshold=3, db_recovery_seconds=1.0),
        rate_limit=RateLimitSettings(enabled=False),  # thousands of requests from one client
    )


async def test_a_crash_under_traffic_is_answered_503_never_500(
    own_postgres: PostgresServer, settings: Settings
) -> None:
    app = create_app(settings)
    statuses: Counter[int] = Counter()
    slowest = 0.0
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            account = {"email": "alice@example.com", "password": PASSWORD}
            assert (await client.post("/api/v1/users", json=account)).status_code == 201
            token = (await client.post("/api/v1/auth/login", json=account)).json()["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
            stop = asyncio.Event()

            async def traffic() -> None:
                nonlocal slowest
                while not stop.is_set():
                    started = time.monotonic()
                    response = await client.get("/api/v1/users/me", headers=auth)
                    slowest = max(slowest, time.monotonic() - started)
                    statuses[response.status_code] += 1
                    if response.status_code == 503:
                        assert response.headers["content-type"] == "application/problem+json"
                        assert int(response.headers["retry-after"]) >= 1
                        assert response.json()["code"] == "service_unavailable"
                    await asyncio.sleep(0.01)

            users = [asyncio.create_task(traffic()) for _ in range(4)]
            await asyncio.sleep(0.3)
            assert statuses[200] > 0

            # What was committed is on disk (the test cluster runs without fsync), then a crash.
            await asyncio.to_thread(own_postgres.psql, "CHECKPOINT")
            await asyncio.to_thread(own_postgres.stop, "immediate")
            started = time.monotonic()
            ready = await client.get("/api/v1/health/ready")
            assert ready.status_code == 503 and ready.json()["checks"]["db"]["status"] == (
                "unavailable"
            )
            assert time.monotonic() - started < 2.5
            assert (await client.get("/api/v1/health/live")).status_code == 200
            await asyncio.sleep(1.0)
            down = statuses.copy()
            assert down[503] > 0, (down, slowest)

            await asyncio.to_thread(own_postgres.start)
            # Within the breaker's recovery (1 s here) the next trial finds the database back.
            deadline = time.monotonic() + 10
            while (body := (await client.get("/api/v1/health/ready")).json())["status"] != "ok":
                assert time.monotonic() < deadline, (body, statuses)
                await asyncio.sleep(0.1)
            before = statuses[200]
            await asyncio.sleep(0.5)
            stop.set()
            await asyncio.gather(*users)
    assert statuses[200] > before  # served again after the outage
    assert set(statuses) <= {200, 503}, statuses
    assert slowest < CONNECT_TIMEOUT + 1.5  # bounded by the connect timeout, never a hang


async def test_a_server_that_never_answers_costs_the_connect_timeout(
    make_settings: Callable[..., Settings],
) -> None:
    # Accepts connections and says nothing: what a host behind a dropping firewall looks like.
    silent = await asyncio.start_server(lambda r, w: asyncio.Event().wait(), "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    settings = make_settings(
        database=DatabaseSettings(
            url=f"postgresql+asyncpg://app@127.0.0.1:{port}/app",
            connect_timeout_seconds=0.5,
        ),
        rate_limit=RateLimitSettings(enabled=False),
    )
    app = create_app(settings)
    try:
        async with LifespanManager(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                started = time.monotonic()
                response = await client.get(
                    "/api/v1/users/me", headers={"X-API-Key": "esk_whatever"}
                )
                assert time.monotonic() - started < 1.5
                assert response.status_code == 503
                assert "retry-after" in response.headers
    finally:
        silent.close()


async def test_a_statement_over_its_timeout_is_unavailable(own_postgres: PostgresServer) -> None:
    from sqlalchemy import text  # noqa: PLC0415

    from example_service.db.engine import create_engine  # noqa: PLC0415
    from example_service.db.errors import is_unavailable  # noqa: PLC0415

    engine = create_engine(DatabaseSettings(url=own_postgres.url(), statement_timeout_seconds=0.2))
    try:
        async with engine.connect() as conn:
            with pytest.raises(Exception) as caught:  # noqa: PT011 - the kind is what is checked
                await conn.execute(text("SELECT pg_sleep(2)"))
        assert is_unavailable(caught.value)
        assert "statement timeout" in str(caught.value)
    finally:
        await engine.dispose()
