"""Outbound calls counted per service with TELEMETRY_MODE=prometheus: outcome, duration,
retries."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from example_service.errors.exceptions import AppError
from example_service.settings import TelemetrySettings
from tests.outbound.conftest import Run
from tests.outbound.upstream import Upstream


def value(registry: CollectorRegistry, name: str, **labels: str) -> float:
    found = registry.get_sample_value(name, labels)
    return 0.0 if found is None else found


@pytest.mark.usefixtures("retries")
async def test_calls_are_counted_by_outcome_with_their_retries(
    run: Run, upstream: Upstream
) -> None:
    async with run(telemetry=TelemetrySettings(mode="prometheus", metrics_public=True)) as app:
        registry = app.app.state.telemetry.registry
        assert value(registry, "outbound_requests_total", service="up", outcome="error") == 0
        assert (await app.up().get("/flaky/2")).status_code == 200  # third attempt
        for path in ("/status/500", "/status/429"):
            with pytest.raises(AppError):
                await app.up().get(path)
    assert value(registry, "outbound_requests_total", service="up", outcome="ok") == 1
    assert value(registry, "outbound_requests_total", service="up", outcome="error") == 1
    assert value(registry, "outbound_requests_total", service="up", outcome="throttled") == 1
    assert value(registry, "outbound_retries_total", service="up") == 2
    labels = {"service": "up"}
    assert value(registry, "outbound_retried_calls_total", **labels, outcome="recovered") == 1
    assert value(registry, "outbound_retried_calls_total", **labels, outcome="exhausted") == 0
    assert value(registry, "outbound_request_duration_seconds_count", service="up") == 3
