"""Label cardinality stays flat: 10,000 requests over random paths, random user ids and random
API keys add no series to the registry after the first few (labels are route templates, status
codes and known methods, never what a client chooses)."""

from __future__ import annotations

import random
import uuid

import httpx
from asgi_lifespan import LifespanManager
from prometheus_client import CollectorRegistry

from example_service.app import create_app
from example_service.settings import RateLimitSettings, TelemetrySettings
from tests.conftest import SettingsFactory

REQUESTS = 10_000


def series(registry: CollectorRegistry) -> int:
    return sum(len(family.samples) for family in registry.collect())


def random_request(rng: random.Random) -> tuple[str, str, dict[str, str]]:
    kind = rng.randrange(4)
    if kind == 0:  # a path nobody declared
        return "GET", "/" + "/".join(uuid.uuid4().hex[:6] for _ in range(rng.randrange(1, 4))), {}
    if kind == 1:  # a user id
        return "GET", f"/api/v1/users/{uuid.uuid4()}", {"Authorization": "Bearer x.y.z"}
    if kind == 2:  # an API key
        return "GET", "/api/v1/users/me", {"X-API-Key": uuid.uuid4().hex}
    # an odd method on a random path
    return rng.choice(["PURGE", "FOO", "GET"]), f"/api/v1/{uuid.uuid4().hex}", {}


async def test_series_stay_flat_under_random_requests(make_settings: SettingsFactory) -> None:
    settings = make_settings(
        telemetry=TelemetrySettings(mode="prometheus", metrics_public=True),
        rate_limit=RateLimitSettings(enabled=False),
    )
    app = create_app(settings)
    rng = random.Random(20261130)
    registry = app.state.telemetry.registry
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for _ in range(200):  # every kind, every label value it can take
                method, path, headers = random_request(rng)
                await client.request(method, path, headers=headers)
            before = series(registry)
            for _ in range(REQUESTS):
                method, path, headers = random_request(rng)
                await client.request(method, path, headers=headers)
            after = series(registry)
    routes = {
        sample.labels.get("route")
        for family in registry.collect()
        for sample in family.samples
        if "route" in sample.labels
    }
    assert after == before, (before, after)
    assert routes <= {"<unmatched>", "/api/v1/users/{user_id}", "/api/v1/users/me"}
