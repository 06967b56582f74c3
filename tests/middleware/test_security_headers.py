from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from starlette.responses import JSONResponse

from example_service.app import create_app
from example_service.docs.pages import REDOC_CSP, SWAGGER_CSP
from example_service.settings import SecuritySettings, Settings
from tests.conftest import SettingsFactory
from tests.errors.conftest import add_failing_routes

API_CSP = "default-src 'none'; frame-ancestors 'none'"
EXPECTED = {
    "cache-control": "no-store",
    "content-security-policy": API_CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-resource-policy": "same-origin",
}


def _app(settings: Settings) -> FastAPI:
    app = create_app(settings)
    add_failing_routes(app)

    @app.get("/own-headers")
    async def own_headers() -> JSONResponse:
        return JSONResponse(
            {"ok": True},
            headers={"Cache-Control": "max-age=60", "Server": "leaky/1.0", "X-Powered-By": "x"},
        )

    return app


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return _app(settings)


async def _client(app: FastAPI, base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as c:
            yield c


@pytest.fixture
async def https_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async for c in _client(app, "https://testserver"):
        yield c


def assert_security_headers(response: httpx.Response) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, name
    policy = response.headers["permissions-policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
        assert feature in policy
    for absent in ("server", "x-powered-by", "x-xss-protection"):
        assert absent not in response.headers
    # Each header once: the edge appends, it must not duplicate what a layer below set.
    names = [name for name, _ in response.headers.raw]
    assert len(names) == len(set(names))


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/health", 200),
        ("/api/v1/nope", 404),
        ("/items/not-a-number", 422),
        ("/boom/handler", 500),  # rendered by the edge's error boundary
        ("/boom/middleware", 500),  # raised outside FastAPI's exception handling
        ("/boom/middleware-apperror", 429),
        ("/app-error/payload_too_large", 413),
    ],
)
async def test_every_response_carries_the_headers(
    client: httpx.AsyncClient, path: str, status: int
) -> None:
    response = await client.get(path)
    assert response.status_code == status
    assert_security_headers(response)
    assert "strict-transport-security" not in response.headers  # plain HTTP


async def test_method_not_allowed_and_post_errors_too(client: httpx.AsyncClient) -> None:
    response = await client.delete("/health")
    assert response.status_code == 405
    assert_security_headers(response)
    response = await client.post("/signup", json={"email": "x"})
    assert response.status_code == 422
    assert_security_headers(response)


async def test_hsts_only_over_https(https_client: httpx.AsyncClient) -> None:
    for path in ("/health", "/boom/handler"):
        response = await https_client.get(path)
        assert response.headers["strict-transport-security"] == (
            "max-age=63072000; includeSubDomains"
        )
        assert_security_headers(response)


async def test_a_response_keeps_its_own_value_and_loses_server(client: httpx.AsyncClient) -> None:
    response = await client.get("/own-headers")
    assert response.headers["cache-control"] == "max-age=60"
    assert response.headers["x-frame-options"] == "DENY"
    assert "server" not in response.headers
    assert "x-powered-by" not in response.headers


async def test_settings_switch_hsts_and_csp(make_settings: SettingsFactory) -> None:
    security = SecuritySettings(
        enable_hsts=False,
        csp_policy="default-src 'self'",
        hsts_max_age_seconds=5,
        permissions_policy="usb=()",
    )
    async for c in _client(_app(make_settings(security=security)), "https://testserver"):
        response = await c.get("/health")
        assert "strict-transport-security" not in response.headers
        assert response.headers["content-security-policy"] == "default-src 'self'"
        assert response.headers["permissions-policy"] == "usb=()"

    security = SecuritySettings(enable_csp=False, hsts_max_age_seconds=5)
    async for c in _client(_app(make_settings(security=security)), "https://testserver"):
        response = await c.get("/boom/handler")
        assert "content-security-policy" not in response.headers
        assert "permissions-policy" in response.headers
        assert response.headers["strict-transport-security"].startswith("max-age=5;")

    security = SecuritySettings(permissions_policy="")
    async for c in _client(_app(make_settings(security=security)), "http://testserver"):
        assert "permissions-policy" not in (await c.get("/health")).headers
        assert response.headers["x-content-type-options"] == "nosniff"


async def test_docs_pages_have_their_own_policy(client: httpx.AsyncClient) -> None:
    docs = await client.get("/docs")
    assert docs.headers["content-security-policy"] == SWAGGER_CSP
    assert "'unsafe-inline'" not in SWAGGER_CSP
    redoc = await client.get("/redoc")
    assert redoc.headers["content-security-policy"] == REDOC_CSP
    assert "script-src 'self';" in REDOC_CSP
    openapi = await client.get("/openapi.json")
    assert openapi.headers["content-security-policy"] == API_CSP
    # Documents a browser opens get their own browsing context group; JSON needs none.
    assert docs.headers["cross-origin-opener-policy"] == "same-origin"
    assert redoc.headers["cross-origin-opener-policy"] == "same-origin"
    assert "cross-origin-opener-policy" not in openapi.headers
