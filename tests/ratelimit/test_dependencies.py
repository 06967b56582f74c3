"""Per-route limits: their own counts, their own headers, the same 429."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import Depends, FastAPI
from starlette.responses import JSONResponse

from example_service.app import create_app
from example_service.ratelimit import (
    Policy,
    named_rate_limit,
    per_api_key_rate_limit,
    per_user_rate_limit,
    rate_limit,
)
from example_service.settings import RateLimitSettings, SecuritySettings
from tests.conftest import SettingsFactory
from tests.ratelimit.helpers import client_for, running, token

SECRET = "another-test-secret-long-enough-for-hs256-xyz"


@pytest.fixture
def app(make_settings: SettingsFactory) -> FastAPI:
    settings = make_settings(
        rate_limit=RateLimitSettings(requests=1000, per_hour=100_000),
        security=SecuritySettings(jwt_secret=SECRET),
    )
    application = create_app(settings)
    application.state.limiter.register(Policy("reports", limit=1, window=3600))

    @application.get("/api/v1/a", dependencies=[Depends(rate_limit(2, 60))])
    async def route_a() -> dict[str, Any]:
        return {}

    @application.get("/api/v1/b", dependencies=[Depends(rate_limit(2, 60))])
    async def route_b() -> dict[str, Any]:
        return {}

    @application.get("/api/v1/own", dependencies=[Depends(rate_limit(5, 60))])
    async def own_response() -> JSONResponse:
        return JSONResponse({"own": True}, headers={"X-Own": "1"})

    @application.get("/api/v1/mine", dependencies=[Depends(per_user_rate_limit(1, 60))])
    async def mine() -> dict[str, Any]:
        return {}

    @application.get("/api/v1/keyed", dependencies=[Depends(per_api_key_rate_limit(1, 60))])
    async def keyed() -> dict[str, Any]:
        return {}

    @application.get("/api/v1/reports", dependencies=[Depends(named_rate_limit("reports"))])
    async def reports() -> dict[str, Any]:
        return {}

    @application.get("/api/v1/missing", dependencies=[Depends(named_rate_limit("nope"))])
    async def missing() -> dict[str, Any]:
        return {}

    return application


async def test_route_limit_counts_per_route_and_sets_its_headers(app: FastAPI) -> None:
    async with running(app) as asgi, client_for(asgi) as client:
        first = await client.get("/api/v1/a")
        assert first.status_code == 200
        # The route's headers replace the global policy's: one value each.
        assert first.headers.get_list("x-ratelimit-limit") == ["2"]
        assert first.headers["x-ratelimit-remaining"] == "1"
        assert first.headers["ratelimit-policy"] == '"route-ip-2-60";q=2;w=60'
        assert (await client.get("/api/v1/a")).status_code == 200
        refused = await client.get("/api/v1/a")
        assert refused.status_code == 429
        assert refused.json()["code"] == "rate_limited"
        # The refusing policy's headers only, not the global policy's beside them.
        assert refused.headers.get_list("x-ratelimit-limit") == ["2"]
        assert refused.headers.get_list("ratelimit-policy") == ['"route-ip-2-60";q=2;w=60']
        assert 0 < int(refused.headers["retry-after"]) <= 60
        # Same limit on another route: its own count.
        assert (await client.get("/api/v1/b")).status_code == 200
        # The global policy still counted every request above (1000 - 4 left for this client).
        global_headers = (await client.get("/api/v1/info")).headers
        assert global_headers["x-ratelimit-remaining"] == str(1000 + 10 - 5)


async def test_a_route_building_its_own_response_keeps_the_headers(app: FastAPI) -> None:
    async with running(app) as asgi, client_for(asgi) as client:
        response = await client.get("/api/v1/own")
        assert response.json() == {"own": True}
        assert response.headers["x-own"] == "1"
        assert response.headers.get_list("x-ratelimit-limit") == ["5"]
        assert response.headers["x-ratelimit-remaining"] == "4"
        assert response.headers["ratelimit"].startswith('"route-ip-5-60";r=4;t=')


async def test_per_user_limit_follows_the_verified_subject(app: FastAPI) -> None:
    async with running(app) as asgi, client_for(asgi) as client:
        alice = {"Authorization": f"Bearer {token('alice', SECRET)}"}
        bob = {"Authorization": f"Bearer {token('bob', SECRET)}"}
        assert (await client.get("/api/v1/mine", headers=alice)).status_code == 200
        assert (await client.get("/api/v1/mine", headers=alice)).status_code == 429
        assert (await client.get("/api/v1/mine", headers=bob)).status_code == 200


async def test_per_api_key_limit(app: FastAPI) -> None:
    async with running(app) as asgi, client_for(asgi) as client:
        assert (await client.get("/api/v1/keyed", headers={"X-API-Key": "k1"})).status_code == 200
        assert (await client.get("/api/v1/keyed", headers={"X-API-Key": "k1"})).status_code == 429
        assert (await client.get("/api/v1/keyed", headers={"X-API-Key": "k2"})).status_code == 200


async def test_named_policy(app: FastAPI) -> None:
    async with running(app) as asgi, client_for(asgi) as client:
        assert (await client.get("/api/v1/reports")).status_code == 200
        refused = await client.get("/api/v1/reports")
        assert refused.status_code == 429
        assert refused.headers["ratelimit-policy"] == '"reports";q=1;w=3600'
        # A typo in a policy name is a server bug, rendered by the error contract.
        broken = await client.get("/api/v1/missing")
        assert broken.status_code == 500
        assert broken.json()["code"] == "internal_error"


def test_unknown_key_strategy_is_refused_at_definition() -> None:
    with pytest.raises(ValueError, match="strategy"):
        rate_limit(1, 60, key="cookie")
