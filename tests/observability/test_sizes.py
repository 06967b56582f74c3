"""Request and response sizes with TELEMETRY_MODE=prometheus, by route template."""

from __future__ import annotations

import httpx
from asgi_lifespan import LifespanManager

from example_service.app import create_app
from example_service.settings import RateLimitSettings, TelemetrySettings
from tests.conftest import SettingsFactory


async def test_sizes_are_observed_per_route(make_settings: SettingsFactory) -> None:
    settings = make_settings(
        telemetry=TelemetrySettings(mode="prometheus", metrics_public=True),
        rate_limit=RateLimitSettings(enabled=False),
    )
    app = create_app(settings)

    @app.post("/echo/{item_id}")
    async def echo(item_id: int, body: dict[str, str]) -> dict[str, str]:
        return {"id": str(item_id), **body}

    registry = app.state.telemetry.registry
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            sent = [await client.post(f"/echo/{n}", json={"k": "v" * n}) for n in (10, 1000)]
    labels = {"method": "POST", "route": "/echo/{item_id}"}
    request_bytes = [len(r.request.content) for r in sent]
    response_bytes = [len(r.content) for r in sent]
    assert registry.get_sample_value("http_request_size_bytes_sum", labels) == sum(request_bytes)
    assert registry.get_sample_value("http_response_size_bytes_sum", labels) == sum(response_bytes)
    assert registry.get_sample_value("http_response_size_bytes_count", labels) == 2
    small = {**labels, "le": "100.0"}
    assert registry.get_sample_value("http_request_size_bytes_bucket", small) == 1
