from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI, Request, WebSocket
from starlette.types import Message, Scope

from example_service.app import create_app
from example_service.middleware.proxy_headers import TrustedProxies, client_from_chain
from example_service.settings import AppSettings, SecuritySettings, Settings
from tests.conftest import SettingsFactory

PEER = "203.0.113.7"  # the test client's address


def _app(settings: Settings) -> FastAPI:
    app = create_app(settings)

    @app.get("/whoami")
    async def whoami(request: Request) -> dict[str, object]:
        assert request.client is not None
        return {"client": request.client.host, "scheme": request.url.scheme}

    return app


async def _client(app: FastAPI, peer: str = PEER) -> AsyncIterator[httpx.AsyncClient]:
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app, client=(peer, 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return _app(settings)


def _layers(app: FastAPI) -> set[str]:
    return {m.cls.__name__ for m in app.user_middleware}  # type: ignore[attr-defined]


def test_defaults_install_none_of_the_optional_layers(app: FastAPI) -> None:
    # The input guard and the (default-on) rate limiter; no host, CORS or proxy layer.
    assert _layers(app) == {"InputGuard", "RateLimitMiddleware"}


def test_rate_limiter_sits_inside_the_proxy_layer(make_settings: SettingsFactory) -> None:
    app = _app(make_settings(security=SecuritySettings(trusted_proxies=["10.0.0.1"])))
    order = [m.cls.__name__ for m in app.user_middleware]  # type: ignore[attr-defined]
    # user_middleware lists the outermost first
    assert order.index("ProxyHeadersMiddleware") < order.index("RateLimitMiddleware")


async def test_spoofed_forwarded_headers_from_an_untrusted_peer_change_nothing(
    client: httpx.AsyncClient, make_settings: SettingsFactory
) -> None:
    spoof = {"x-forwarded-for": "1.2.3.4", "x-forwarded-proto": "https"}
    assert (await client.get("/whoami", headers=spoof)).json() == {
        "client": PEER,
        "scheme": "http",
    }
    # Proxies are configured, but this peer is not one of them.
    settings = make_settings(security=SecuritySettings(trusted_proxies=["10.0.0.0/8"]))
    async for c in _client(_app(settings)):
        response = await c.get("/whoami", headers=spoof)
        assert response.json() == {"client": PEER, "scheme": "http"}
        assert "strict-transport-security" not in response.headers


@pytest.fixture
def proxied(make_settings: SettingsFactory) -> FastAPI:
    security = SecuritySettings(trusted_proxies=["203.0.113.0/24", "10.0.0.1", "2001:db8::/32"])
    return _app(make_settings(security=security))


@pytest.mark.parametrize(
    ("chain", "client"),
    [
        ("198.51.100.9", "198.51.100.9"),
        ("198.51.100.9, 10.0.0.1", "198.51.100.9"),
        # The client's own claim (leftmost) is ignored: the first untrusted hop from the right.
        ("6.6.6.6, 198.51.100.9, 10.0.0.1", "198.51.100.9"),
        ("10.0.0.1, 203.0.113.50", "10.0.0.1"),  # every hop trusted: the leftmost
        ("unknown", PEER),  # not an address: the peer stays the client
        ("2001:0db8::1, 2606:4700::1111", "2606:4700::1111"),
    ],
)
async def test_forwarded_for_from_a_trusted_peer(proxied: FastAPI, chain: str, client: str) -> None:
    async for c in _client(proxied):
        response = await c.get("/whoami", headers={"x-forwarded-for": chain})
        assert response.json()["client"] == client


async def test_forwarded_headers_repeated_and_proto(proxied: FastAPI) -> None:
    async for c in _client(proxied):
        headers = [
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "198.51.100.20"),
            ("x-forwarded-proto", "https"),
        ]
        response = await c.get("/whoami", headers=headers)
        assert response.json() == {"client": "198.51.100.20", "scheme": "https"}
        # The security headers see the rewritten scheme.
        assert response.headers["strict-transport-security"].startswith("max-age=")
        bogus = await c.get("/whoami", headers={"x-forwarded-proto": "gopher"})
        assert bogus.json()["scheme"] == "http"


def test_chain_resolution_and_cache() -> None:
    trusted = TrustedProxies(["10.0.0.0/8"])
    assert client_from_chain([], trusted) is None
    assert client_from_chain(["1.1.1.1", "10.1.1.1"], trusted) == "1.1.1.1"
    assert trusted.contains("10.9.9.9") and not trusted.contains("11.0.0.1")
    assert not trusted.contains("not-an-ip")


def test_trusted_proxies_are_validated() -> None:
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6"):
        SecuritySettings(trusted_proxies=["proxy.local"])


@pytest.fixture
def hosts_app(make_settings: SettingsFactory) -> FastAPI:
    app_settings = AppSettings(
        environment="test", allowed_hosts=["api.example.com", "*.example.org", "[::1]"]
    )
    return _app(make_settings(app=app_settings))


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("api.example.com", 200),
        ("API.example.com:8443", 200),
        ("eu.example.org", 200),
        ("[::1]:8000", 200),
        ("example.org", 400),
        ("evil.com", 400),
        ("api.example.com.evil.com", 400),
    ],
)
async def test_trusted_hosts(hosts_app: FastAPI, host: str, status: int) -> None:
    async for c in _client(hosts_app):
        response = await c.get("/whoami", headers={"host": host})
        assert response.status_code == status
        if status == 400:
            assert response.json()["code"] == "bad_request"
            assert response.headers["content-type"] == "application/problem+json"
            assert response.headers["x-frame-options"] == "DENY"


async def _websocket(app: FastAPI, host: str) -> list[Message]:
    """One WebSocket session driven at the ASGI level: connect, then the client leaves."""
    incoming: list[Message] = [
        {"type": "websocket.connect"},
        {"type": "websocket.disconnect", "code": 1000},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "ws",
        "path": "/ws",
        "raw_path": b"/ws",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", host.encode())],
        "client": (PEER, 50000),
        "server": ("testserver", 80),
        "subprotocols": [],
    }
    async with LifespanManager(app) as manager:
        await manager.app(scope, receive, send)
    return sent


async def test_trusted_hosts_cover_websockets(hosts_app: FastAPI) -> None:
    @hosts_app.websocket("/ws")
    async def hello(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("served")
        await websocket.close()

    served = await _websocket(hosts_app, "api.example.com")
    assert [m["type"] for m in served] == ["websocket.accept", "websocket.send", "websocket.close"]
    # Closed before it is accepted: the server answers the handshake with a 403.
    refused = await _websocket(hosts_app, "evil.com")
    assert [(m["type"], m.get("code")) for m in refused] == [("websocket.close", 1008)]


@pytest.fixture
def cors_app(make_settings: SettingsFactory) -> FastAPI:
    app_settings = AppSettings(
        environment="test",
        cors_allow_origins=["https://app.example.com"],
        cors_allow_credentials=True,
    )
    return _app(make_settings(app=app_settings))


async def test_cors_for_an_allowed_origin(cors_app: FastAPI) -> None:
    async for c in _client(cors_app):
        response = await c.get("/whoami", headers={"origin": "https://app.example.com"})
        assert response.headers["access-control-allow-origin"] == "https://app.example.com"
        assert response.headers["access-control-allow-credentials"] == "true"
        exposed = response.headers["access-control-expose-headers"].lower()
        for name in ("x-ratelimit-limit", "ratelimit", "retry-after", "x-request-id"):
            assert name in exposed.split(", ")
        preflight = await c.options(
            "/whoami",
            headers={
                "origin": "https://app.example.com",
                "access-control-request-method": "POST",
                "access-control-request-headers": "authorization, content-type",
            },
        )
        assert preflight.status_code == 200
        assert "POST" in preflight.headers["access-control-allow-methods"]
        other = await c.get("/whoami", headers={"origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


async def test_rejections_below_cors_carry_cors_headers(cors_app: FastAPI) -> None:
    async for c in _client(cors_app):
        response = await c.post(
            "/whoami",
            content=b"x" * 2_000_000,
            headers={"origin": "https://app.example.com", "content-type": "application/json"},
        )
        assert response.status_code == 413
        assert response.headers["access-control-allow-origin"] == "https://app.example.com"
        assert response.json()["code"] == "payload_too_large"


async def test_refused_preflight_is_a_problem(cors_app: FastAPI) -> None:
    async for c in _client(cors_app):
        response = await c.options(
            "/whoami",
            headers={
                "origin": "https://evil.example",
                "access-control-request-method": "POST",
            },
        )
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert body["code"] == "bad_request"
        assert body["detail"] == "Disallowed CORS origin"
        assert body["instance"] == "/whoami"
        assert response.headers["x-request-id"] == body["request_id"]


async def test_wildcard_origin_never_with_credentials(make_settings: SettingsFactory) -> None:
    app_settings = AppSettings(
        environment="test", cors_allow_origins=["*"], cors_allow_credentials=True
    )
    async for c in _client(_app(make_settings(app=app_settings))):
        response = await c.get("/whoami", headers={"origin": "https://anyone.example"})
        assert response.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in response.headers
