"""Redis stops mid-run: requests are still served in-process, counted and logged; Redis comes
back: shared counting resumes. Against a real Redis that the test stops and restarts."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from example_service.app import create_app
from example_service.resilience.breaker import BreakerState
from example_service.settings import (
    RateLimitSettings,
    RedisSettings,
    ResilienceSettings,
    TelemetrySettings,
)
from tests.conftest import LogCapture, SettingsFactory
from tests.ratelimit.conftest import FakeClock
from tests.ratelimit.helpers import client_for, running
from tests.servers import RedisServer


@pytest.fixture
def app(make_settings: SettingsFactory, own_redis: RedisServer) -> FastAPI:
    return create_app(
        make_settings(
            redis=RedisSettings(url=own_redis.url),
            resilience=ResilienceSettings(redis_failure_threshold=2),
            rate_limit=RateLimitSettings(
                algorithm="fixed_window", requests=100, window_seconds=10**9
            ),
            telemetry=TelemetrySettings(mode="prometheus"),
        )
    )


async def test_redis_outage_fails_open_and_recovers(
    app: FastAPI, own_redis: RedisServer, logs: LogCapture
) -> None:
    async with running(app) as asgi, client_for(asgi) as client:
        redis = app.state.redis
        breaker_clock = FakeClock(0.0)
        redis.breaker.clock = breaker_clock
        limiter = app.state.limiter

        async def remaining() -> int:
            response = await client.get("/api/v1/info")
            assert response.status_code == 200
            return int(response.headers["x-ratelimit-remaining"])

        assert [await remaining() for _ in range(3)] == [99, 98, 97]
        redis_check = (await client.get("/api/v1/health/ready")).json()["checks"]["redis"]
        assert redis_check == {
            "status": "ok",
            "required": False,
            "breaker": "closed",
            "probe": "ok",
        }
        # Counted in Redis, not in the process.
        assert await redis.client.hget("rl:default:ip:203.0.113.7", "c") == b"3"
        assert len(limiter.memory) == 0

        own_redis.stop()
        # Served from the in-process backend (which starts its own count), never a 5xx.
        assert [await remaining() for _ in range(4)] == [99, 98, 97, 96]
        assert limiter.fallbacks == 4
        events = logs.events("ratelimit.fallback")
        assert len(events) == 4 and events[0]["policy"] == "default"
        # After 2 failures the breaker is open: the next fallbacks cost no Redis attempt.
        assert redis.breaker.state is BreakerState.OPEN
        trips = redis.pipeline.round_trips
        assert await remaining() == 95
        assert redis.pipeline.round_trips == trips
        assert "circuit open" in logs.events("ratelimit.fallback")[-1]["reason"]
        metrics = (await client.get("/metrics")).text
        assert "ratelimit_fallbacks_total 5.0" in metrics
        # Redis is optional: the service is degraded, still ready (200).
        ready = await client.get("/api/v1/health/ready")
        assert ready.status_code == 200
        assert ready.json()["status"] == "degraded"
        assert ready.json()["checks"]["redis"] == {
            "status": "degraded",
            "required": False,
            "breaker": "open",
            "probe": "error",
        }

        own_redis.start()  # an empty server on the same port
        assert await remaining() == 94  # breaker still open: in-process
        breaker_clock.advance(redis.breaker.recovery_seconds)
        assert await remaining() == 99  # the probe succeeded: counting in Redis again
        assert redis.breaker.state is BreakerState.CLOSED
        assert await remaining() == 98
        assert limiter.fallbacks == 6
        assert await redis.client.hget("rl:default:ip:203.0.113.7", "c") == b"2"
    assert limiter.backend is limiter.memory  # shutdown released the Redis backend
