"""Each error response is logged once, with its own status; authorization denials are security
events; 405 lists every method the path supports."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from example_service.app import create_app
from example_service.settings import RateLimitSettings, SecuritySettings, ServerSettings
from tests.conftest import LogCapture, SettingsFactory
from tests.errors.conftest import add_failing_routes
from tests.identity import Api

JSON = {"content-type": "application/json"}


async def _chunks(data: bytes, size: int = 1024) -> Any:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def _stalls() -> Any:
    yield b'{"email": '
    await asyncio.sleep(5)  # past the body deadline (SERVER_BODY_TIMEOUT_SECONDS=0.2 here)
    yield b"1}"  # pragma: no cover


ERROR_REQUESTS: list[tuple[str, str, dict[str, Any], int]] = [
    ("GET", "/nowhere", {}, 404),
    ("DELETE", "/api/v1/info", {}, 405),
    ("POST", "/signup", {"json": {"email": "x"}}, 422),
    ("GET", "/items/1?x=%00", {}, 400),
    ("POST", "/signup", {"content": b"[" * 100 + b"]" * 100, "headers": JSON}, 400),
    ("POST", "/signup", {"content": b"x" * 5000, "headers": JSON}, 413),
    (
        "POST",
        "/signup",
        {"content": _chunks(b'{"email": "' + b"x" * 5000 + b'"}'), "headers": JSON},
        413,
    ),
    ("POST", "/signup", {"content": b"{}", "headers": {"content-type": "text/csv"}}, 415),
    ("GET", "/api/v1/info", {"headers": {"x-big": "v" * 9000}}, 431),
    ("GET", "/app-error/conflict", {}, 409),
    ("GET", "/boom/handler", {}, 500),
    ("GET", "/boom/middleware", {}, 500),
    ("POST", "/api/v1/auth/login", {"content": b"y" * 5000, "headers": JSON}, 413),
    ("POST", "/api/v1/auth/login", {"content": _chunks(b"z" * 5000), "headers": JSON}, 413),
    ("POST", "/signup", {"content": _stalls(), "headers": JSON}, 408),
    ("POST", "/api/v1/auth/login", {"content": _stalls(), "headers": JSON}, 408),
]


@pytest.mark.parametrize(
    "case", ERROR_REQUESTS, ids=[f"{m} {p} {s}" for m, p, _, s in ERROR_REQUESTS]
)
async def test_one_error_event_per_error_response(
    make_settings: SettingsFactory, logs: LogCapture, case: tuple[str, str, dict[str, Any], int]
) -> None:
    method, path, options, status = case
    app = create_app(
        make_settings(
            security=SecuritySettings(max_request_size=4096),
            server=ServerSettings(body_timeout_seconds=0.2),
        )
    )
    add_failing_routes(app)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            logs.clear()
            response = await client.request(method, path, **options)
    assert response.status_code == status
    assert [event["status"] for event in logs.events("http.error")] == [status]


async def test_a_refusal_by_the_rate_limit_is_one_event(
    make_settings: SettingsFactory, logs: LogCapture
) -> None:
    limits = RateLimitSettings(requests=1, burst=0, algorithm="fixed_window")
    app = create_app(make_settings(rate_limit=limits))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await client.get("/api/v1/info")
            logs.clear()
            assert (await client.get("/api/v1/info")).status_code == 429
    assert [event["status"] for event in logs.events("http.error")] == [429]


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", "/api/v1/users", "GET, POST"),
        ("TRACE", "/api/v1/users/{id}", "GET, PATCH, DELETE"),
        ("OPTIONS", "/api/v1/users/{id}", "GET, PATCH, DELETE"),
        ("DELETE", "/api/v1/users/me", "GET"),  # not taken for a user id: "me" is no UUID
        ("POST", "/api/v1/api-keys/{id}", "DELETE"),
        ("GET", "/api/v1/auth/login", "POST"),
    ],
)
async def test_405_allows_every_method_of_the_path(
    client: httpx.AsyncClient, method: str, path: str, allow: str
) -> None:
    response = await client.request(method, path.replace("{id}", str(uuid.uuid4())))
    assert response.status_code == 405
    assert response.headers["allow"] == allow


async def test_an_id_that_is_no_uuid_is_not_found(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/users/not-a-uuid")).status_code == 404


def _comparable(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    return {k: v for k, v in body.items() if k not in {"request_id", "instance"}}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_ownership_denial_is_a_security_event_with_the_same_answer(
    api: Api, logs: LogCapture
) -> None:
    alice = await api.account("alice@example.com")
    bob = await api.account("bob@example.com")
    admin = await api.account("root@example.com", admin=True)

    logs.clear()  # an administrator may read anyone: a missing id is only missing
    absent = await api.client.get(f"/api/v1/users/{uuid.uuid4()}", headers=admin.auth)
    assert logs.events("security.authz_denied") == []

    for method, options in (("GET", {}), ("PATCH", {"json": {"full_name": "x"}}), ("DELETE", {})):
        logs.clear()
        denied = await api.client.request(
            method, f"/api/v1/users/{bob.id}", headers=alice.auth, **options
        )
        assert denied.status_code == absent.status_code == 404
        assert _comparable(denied) == _comparable(absent)
        [event] = logs.events("security.authz_denied")
        assert event["route"] == "/api/v1/users/{user_id}"
        assert event["caller"] == alice.id
        assert event["level"] == "warning"
        assert bob.id not in str(event) and "bob" not in str(event)
        assert [e["status"] for e in logs.events("http.error")] == [404]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_missing_permission_is_a_security_event(api: Api, logs: LogCapture) -> None:
    alice = await api.account("alice@example.com")
    logs.clear()
    assert (await api.client.get("/api/v1/users", headers=alice.auth)).status_code == 403
    [event] = logs.events("security.authz_denied")
    assert event["route"] == "/api/v1/users" and event["caller"] == alice.id
    assert event["status"] == 403
