"""Each service's breaker (`http:<service>`): what opens it, failing fast while it is open,
recovering on the fake clock, and how readiness shows it."""

from __future__ import annotations

import contextlib
import time

import pytest

from example_service.errors import ServiceUnavailableError, UpstreamError
from example_service.resilience.breaker import BreakerState
from tests.outbound.conftest import RECOVERY, THRESHOLD, Run
from tests.outbound.upstream import Upstream


async def test_the_breaker_opens_fails_fast_and_recovers(run: Run, upstream: Upstream) -> None:
    async with run() as app:
        assert app.app.state.breakers.get("http:up") is app.breaker()
        for _ in range(THRESHOLD):
            with pytest.raises(ServiceUnavailableError):
                await app.up().get("/status/503")
        assert app.breaker().state is BreakerState.OPEN
        seen = (len(upstream.requests), upstream.connections)

        started = time.monotonic()
        with pytest.raises(ServiceUnavailableError) as caught:
            await app.up().get("/echo")
        assert time.monotonic() - started < 0.1  # no connect, no timeout: at once
        assert (len(upstream.requests), upstream.connections) == seen  # not even a connection
        assert caught.value.headers["Retry-After"] == str(int(RECOVERY))

        app.clock.now += RECOVERY - 1
        with pytest.raises(ServiceUnavailableError) as caught:
            await app.up().get("/echo")
        assert caught.value.headers["Retry-After"] == "1"

        app.clock.now += 1  # recovery over: one trial goes out, finds the service back
        assert (await app.up().get("/echo")).status_code == 200
        assert app.breaker().state is BreakerState.CLOSED
        assert (await app.up().get("/echo")).status_code == 200
    assert len(upstream.requests) == seen[0] + 2


async def test_a_failed_trial_opens_it_for_another_full_period(run: Run) -> None:
    async with run() as app:
        for _ in range(THRESHOLD):
            with pytest.raises(UpstreamError):
                await app.up().get("/status/500")  # a 500 counts, though it is not retried
        assert app.breaker().state is BreakerState.OPEN
        app.clock.now += RECOVERY
        with pytest.raises(UpstreamError):
            await app.up().get("/status/502")
        assert app.breaker().state is BreakerState.OPEN
        assert app.breaker().retry_after() == RECOVERY


@pytest.mark.parametrize("path", ["/status/404", "/status/409", "/status/429"])
async def test_answers_the_caller_must_handle_do_not_count(run: Run, path: str) -> None:
    async with run() as app:
        for _ in range(THRESHOLD * 2):
            with contextlib.suppress(ServiceUnavailableError):  # what a 429 becomes
                await app.up().get(path)
        assert app.breaker().state is BreakerState.CLOSED


async def test_readiness_shows_an_open_breaker_as_degraded(run: Run) -> None:
    async with run() as app:
        ready = await app.client.get("/api/v1/health/ready")
        assert ready.json()["checks"]["http:up"] == {
            "status": "ok",
            "required": False,
            "breaker": "closed",
            "probe": "ok",
        }
        for _ in range(THRESHOLD):
            with pytest.raises(ServiceUnavailableError):
                await app.up().get("/status/503")
        ready = await app.client.get("/api/v1/health/ready")
        assert ready.status_code == 200  # optional: the instance stays in the load balancer
        assert ready.json()["status"] == "degraded"
        assert ready.json()["checks"]["http:up"]["breaker"] == "open"


async def test_readiness_calls_only_services_with_a_health_path(
    run: Run, upstream: Upstream
) -> None:
    services = {
        "quiet": upstream.url,
        "optional": {"url": upstream.url, "health_path": "/status/500"},
        "required": {"url": upstream.url, "health_path": "/status/204", "required": True},
    }
    async with run(services=services) as app:
        ready = await app.client.get("/api/v1/health/ready")
        checks = ready.json()["checks"]
        assert ready.status_code == 200
        assert checks["http:quiet"]["status"] == "ok"
        assert checks["http:optional"]["status"] == "degraded"
        assert checks["http:required"]["status"] == "ok"
        assert sorted(upstream.paths()) == ["/status/204", "/status/500"]

    services["required"] = {"url": upstream.url, "health_path": "/status/503", "required": True}
    async with run(services=services) as app:
        ready = await app.client.get("/api/v1/health/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["http:required"]["status"] == "unavailable"
