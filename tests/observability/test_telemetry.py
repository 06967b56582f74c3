from __future__ import annotations

import random
import uuid

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from fastapi.telemetry._asgi import ExceptionTelemetryMiddleware
from opentelemetry import trace

from example_service.app import create_app
from example_service.observability.telemetry import LogTelemetry, method_label
from example_service.settings import Settings, TelemetrySettings
from tests.conftest import LogCapture, SettingsFactory


class TestLogMode:
    @pytest.fixture
    def settings(self, make_settings: SettingsFactory) -> Settings:
        return make_settings(telemetry=TelemetrySettings(mode="log"))

    async def test_counter_and_histogram_lines(
        self, client: httpx.AsyncClient, logs: LogCapture
    ) -> None:
        logs.clear()
        await client.get("/api/v1/info")
        [counter] = logs.events("metric.counter")
        [histogram] = logs.events("metric.histogram")
        tags = {"method": "GET", "path": "/api/v1/info", "status_code": 200}
        assert counter["name"] == "http_requests_total" and counter["value"] == 1
        assert counter["tags"] == tags
        assert histogram["name"] == "http_request_duration_ms" and histogram["tags"] == tags
        assert histogram["value"] >= 0


def test_sampling_rate_is_honoured() -> None:
    lines: list[str] = []

    class Recorder:
        def info(self, event: str, **_: object) -> None:
            lines.append(event)

    telemetry = LogTelemetry(Recorder(), 0.25, random.Random(42))
    for _ in range(4000):
        telemetry.observe_request("GET", "/x", 200, 0.001)
    counters = lines.count("metric.counter")
    assert 800 < counters < 1200  # ~25 % of 4000
    assert LogTelemetry(Recorder(), 0.0).observe_request("GET", "/x", 200, 0.1) is None


def test_unknown_methods_share_one_label() -> None:
    assert method_label("GET") == "GET"
    assert method_label("FOOBAR") == "OTHER"


class TestPrometheus:
    @pytest.fixture
    def settings(self, make_settings: SettingsFactory) -> Settings:
        return make_settings(telemetry=TelemetrySettings(mode="prometheus"))

    async def test_metrics_are_labelled_by_template(self, client: httpx.AsyncClient) -> None:
        await client.get("/api/v1/info")
        await client.get("/api/v1/nope")
        text = (await client.get("/metrics")).text
        assert 'http_requests_total{method="GET",route="/api/v1/info",status="200"} 1.0' in text
        assert 'route="<unmatched>",status="404"' in text
        assert "http_request_duration_seconds_bucket" in text

    async def test_series_count_flat_after_random_paths(self, client: httpx.AsyncClient) -> None:
        async def series() -> int:
            text = (await client.get("/metrics")).text
            counted = ("http_requests_", "http_request_duration_seconds")  # not the sizes
            return sum(1 for line in text.splitlines() if line.startswith(counted))

        for _ in range(5):
            await client.get(f"/warm/{uuid.uuid4()}")
        await client.get("/metrics")
        before = await series()
        for _ in range(1000):
            await client.request(
                random.choice(["GET", "POST", "BREW"]), f"/{uuid.uuid4()}/{uuid.uuid4()}"
            )
        after = await series()
        # POST and the unknown method (as OTHER) add one label set each, once: 17 exposition
        # lines per set (counter total + created; 12 buckets, count, sum, created).
        assert after - before == 2 * 17
        for _ in range(200):
            await client.get(f"/{uuid.uuid4()}")
        assert await series() == after


async def test_metrics_route_absent_unless_prometheus(client: httpx.AsyncClient) -> None:
    assert (await client.get("/metrics")).status_code == 404


def _has_layer(app: FastAPI, cls: type) -> bool:
    layer: object = app.build_middleware_stack()
    while layer is not None:
        if isinstance(layer, cls):
            return True
        layer = getattr(layer, "app", None)
    return False


@pytest.mark.parametrize("otel", [False, True])
async def test_fastapi_native_opentelemetry_only_when_asked(
    make_settings: SettingsFactory, monkeypatch: pytest.MonkeyPatch, otel: bool
) -> None:
    lookups: list[object] = []
    real = trace.get_tracer_provider

    def counting() -> trace.TracerProvider:
        lookups.append(None)
        return real()

    monkeypatch.setattr(trace, "get_tracer_provider", counting)
    app = create_app(make_settings(telemetry=TelemetrySettings(otel=otel)))
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            lookups.clear()
            assert (await c.get("/api/v1/info")).status_code == 200
    # Off: FastAPI does not even look for a provider. On: it does, on every request.
    assert bool(lookups) is otel
    assert _has_layer(app, ExceptionTelemetryMiddleware) is otel
