"""The global policy on /api/v1/*: headers, the 429, exemptions, key strategies."""

from __future__ import annotations

import time

import pytest

from example_service.app import create_app
from example_service.settings import AppSettings, RateLimitSettings, SecuritySettings
from tests.conftest import SettingsFactory
from tests.ratelimit.helpers import client_for, running, token

FAR_RESET = 2_000_000_000  # a window of 10**9 s ends here (2033): no boundary during a test


SECRET = "a-test-secret-long-enough-for-hs256-0123456789"


def limited(make_settings: SettingsFactory, **options: object) -> object:
    base: dict[str, object] = {
        "algorithm": "fixed_window",
        "requests": 3,
        "window_seconds": 10**9,
    }
    return create_app(
        make_settings(
            rate_limit=RateLimitSettings(**{**base, **options}),
            security=SecuritySettings(jwt_secret=SECRET),
        )
    )


async def test_default_policy_headers_on_api_responses(make_settings: SettingsFactory) -> None:
    app = create_app(make_settings())
    async with running(app) as asgi, client_for(asgi) as client:
        before = int(time.time())
        response = await client.get("/api/v1/info")
        after = int(time.time())
    assert response.status_code == 200
    headers = response.headers
    # Defaults: 60 per minute plus a burst of 10, sliding window.
    assert headers["x-ratelimit-limit"] == "70"
    assert headers["x-ratelimit-remaining"] == "69"
    reset = int(headers["x-ratelimit-reset"])
    assert before < reset <= after + 60  # epoch seconds, the end of the current minute
    assert headers["ratelimit-policy"] == '"default";q=70;w=60'
    assert headers["ratelimit"].startswith('"default";r=69;t=')
    assert 0 <= int(headers["ratelimit"].rsplit("t=", 1)[1]) <= 60


async def test_limit_reached_is_a_problem_429_with_headers(make_settings: SettingsFactory) -> None:
    app = limited(make_settings)
    async with running(app) as asgi, client_for(asgi) as client:
        ok = [await client.get("/api/v1/info") for _ in range(3)]
        refused = await client.get("/api/v1/info")
    assert [r.status_code for r in ok] == [200, 200, 200]
    assert [r.headers["x-ratelimit-remaining"] for r in ok] == ["2", "1", "0"]
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    body = refused.json()
    assert body["code"] == "rate_limited"
    assert body["status"] == 429
    assert body["request_id"] == refused.headers["x-request-id"]
    retry_after = int(refused.headers["retry-after"])
    assert abs(retry_after - (FAR_RESET - time.time())) <= 2
    assert body["retry_after"] == retry_after
    assert refused.headers["x-ratelimit-limit"] == "3"
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert refused.headers["x-ratelimit-reset"] == str(FAR_RESET)
    assert refused.headers["ratelimit"].startswith('"default";r=0;t=')


@pytest.mark.parametrize("algorithm", ["fixed_window", "sliding_window", "token_bucket"])
async def test_refusal_t_agrees_with_retry_after(
    make_settings: SettingsFactory, algorithm: str
) -> None:
    app = limited(make_settings, algorithm=algorithm, window_seconds=60, burst=0)
    async with running(app) as asgi, client_for(asgi) as client:
        statuses = [(await client.get("/api/v1/info")).status_code for _ in range(3)]
        refused = await client.get("/api/v1/info")
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    retry_after = refused.headers["retry-after"]
    assert int(retry_after) > 0
    assert refused.headers["ratelimit"] == f'"default";r=0;t={retry_after}'


async def test_unknown_api_paths_count_too(make_settings: SettingsFactory) -> None:
    app = limited(make_settings)
    async with running(app) as asgi, client_for(asgi) as client:
        missing = await client.get("/api/v1/nope")
        assert missing.status_code == 404
        assert missing.headers["x-ratelimit-remaining"] == "2"


@pytest.mark.parametrize(
    "path", ["/health", "/api/v1/health/live", "/api/v1/health/ready", "/docs", "/openapi.json"]
)
async def test_probes_and_docs_are_exempt(make_settings: SettingsFactory, path: str) -> None:
    app = limited(make_settings, requests=1)
    async with running(app) as asgi, client_for(asgi) as client:
        responses = [await client.get(path) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert all("x-ratelimit-limit" not in r.headers for r in responses)


async def test_disabled_means_no_limit_and_no_headers(make_settings: SettingsFactory) -> None:
    app = limited(make_settings, requests=1, enabled=False)
    async with running(app) as asgi, client_for(asgi) as client:
        responses = [await client.get("/api/v1/info") for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert "x-ratelimit-limit" not in responses[0].headers
    assert app.state.limiter is not None  # dependencies and login limiting still work


async def test_ip_strategy_counts_each_client_address(make_settings: SettingsFactory) -> None:
    app = limited(make_settings, requests=1)
    async with (
        running(app) as asgi,
        client_for(asgi, "198.51.100.1") as first,
        client_for(asgi, "198.51.100.2") as second,
    ):
        assert (await first.get("/api/v1/info")).status_code == 200
        assert (await first.get("/api/v1/info")).status_code == 429
        assert (await second.get("/api/v1/info")).status_code == 200
        # A forwarded-for header from the client changes nothing here.
        spoofed = await first.get("/api/v1/info", headers={"X-Forwarded-For": "192.0.2.99"})
        assert spoofed.status_code == 429


async def test_user_or_ip_uses_only_verified_subjects(make_settings: SettingsFactory) -> None:
    app = limited(make_settings, requests=1, key_strategy="user_or_ip")
    async with running(app) as asgi, client_for(asgi) as client:

        async def get(bearer: str | None) -> int:
            headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
            return (await client.get("/api/v1/info", headers=headers)).status_code

        alice, bob = token("alice", SECRET), token("bob", SECRET)
        assert await get(alice) == 200
        assert await get(alice) == 429
        assert await get(alice) == 429  # served from the verified-token memo
        assert await get(bob) == 200
        assert await get(None) == 200  # anonymous: the address's own bucket
        # Forged, expired or foreign tokens cannot pick a fresh bucket: they count as the address.
        assert await get(token("mallory", "x" * 40)) == 429
        assert await get(token("carol", SECRET, expires_in=-10)) == 429
        assert await get(token("dave", SECRET, aud="someone-else")) == 429
        assert await get("not-a-jwt") == 429


async def test_api_key_strategy_counts_each_key(make_settings: SettingsFactory) -> None:
    app = limited(make_settings, requests=1, key_strategy="api_key")
    async with running(app) as asgi, client_for(asgi) as client:

        async def get(key: str | None) -> int:
            headers = {"X-API-Key": key} if key else {}
            return (await client.get("/api/v1/info", headers=headers)).status_code

        assert await get("key-one") == 200
        assert await get("key-one") == 429
        assert await get("key-two") == 200
        assert await get(None) == 200
        assert await get(None) == 429


async def test_openapi_declares_429_where_the_global_limit_applies(
    make_settings: SettingsFactory,
) -> None:
    schema = create_app(make_settings()).openapi()["paths"]
    assert "429" in schema["/api/v1/info"]["get"]["responses"]
    assert "429" not in schema["/api/v1/health/live"]["get"]["responses"]
    off = create_app(make_settings(rate_limit=RateLimitSettings(enabled=False))).openapi()
    assert "429" not in off["paths"]["/api/v1/info"]["get"]["responses"]


async def test_429_keeps_cors_headers_for_browsers(make_settings: SettingsFactory) -> None:
    app = create_app(
        make_settings(
            app=AppSettings(environment="test", cors_allow_origins=["https://app.example"]),
            rate_limit=RateLimitSettings(
                algorithm="fixed_window", requests=1, window_seconds=10**9
            ),
        )
    )
    origin = {"origin": "https://app.example"}
    async with running(app) as asgi, client_for(asgi) as client:
        assert (await client.get("/api/v1/info", headers=origin)).status_code == 200
        refused = await client.get("/api/v1/info", headers=origin)
    assert refused.status_code == 429
    assert refused.headers["access-control-allow-origin"] == "https://app.example"
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "rate_limited"
    assert int(refused.headers["retry-after"]) > 0
    assert refused.headers["x-ratelimit-remaining"] == "0"
