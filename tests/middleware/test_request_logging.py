"""Request and response logging (LOG_REQUESTS): one masked `http.exchange` line per request,
through the real app and its real log pipeline (the captured JSON lines)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from asgi_lifespan import LifespanManager
from fastapi import Request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from example_service.app import create_app
from example_service.middleware.request_logging import RequestLogging
from example_service.settings import DatabaseSettings, LogSettings, RateLimitSettings, Settings
from tests.conftest import LogCapture, SettingsFactory
from tests.identity import PASSWORD, migrated_url, security_settings  # noqa: F401 - a fixture

LIMIT = 2048


@pytest.fixture
def logged_settings(make_settings: SettingsFactory, tmp_path: Any) -> Settings:
    from example_service.db.migrate import alembic_config, upgrade  # noqa: PLC0415

    url = f"sqlite+aiosqlite:///{tmp_path}/log.db"
    upgrade(alembic_config(url))
    return make_settings(
        log=LogSettings(requests=True, request_body_max_bytes=LIMIT, mask_fields=["nickname"]),
        database=DatabaseSettings(url=url),
        # Every request reaches the app (and reads its body), however many hypothesis sends.
        rate_limit=RateLimitSettings(enabled=False),
        security=security_settings(
            allowed_content_types=[
                "application/json",
                "application/x-www-form-urlencoded",
                "image/png",
            ]
        ),
    )


@pytest.fixture
async def client(logged_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(logged_settings)

    @app.post("/upload")
    async def upload(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app, client=("203.0.113.9", 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


def exchanges(logs: LogCapture) -> list[dict[str, Any]]:
    return logs.events("http.exchange")


async def test_a_registration_is_logged_masked(client: httpx.AsyncClient, logs: LogCapture) -> None:
    body = {"email": "alice.smith@example.com", "password": PASSWORD, "full_name": "Alice"}
    created = await client.post(
        "/api/v1/users?ref=bob@example.com", json=body, headers={"X-Trace": "555-123-4567"}
    )
    assert created.status_code == 201
    [line] = exchanges(logs)
    assert line["method"] == "POST" and line["route"] == "/api/v1/users"
    assert line["status"] == 201 and line["client"] == "203.0.113.9"
    assert line["request_id"] == created.headers["x-request-id"]
    assert line["request_body"] == {
        "email": "a***@example.com",
        "password": "***",
        "full_name": "Alice",
    }
    assert line["response_body"]["email"] == "a***@example.com"
    assert line["response_body"]["id"] == created.json()["id"]  # ids stay readable
    assert line["query"] == {"ref": "b***@example.com"}
    assert line["request_headers"]["x-trace"] == "***-***-4567"
    assert line["request_bytes"] == len(orjson.dumps(body))
    assert line["response_bytes"] == len(created.content)
    raw = logs.stream.getvalue().decode()
    assert PASSWORD not in raw and "alice.smith@" not in raw and "bob@" not in raw


async def test_credentials_in_headers_never_appear(
    client: httpx.AsyncClient, logs: LogCapture
) -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    response = await client.get(
        "/api/v1/users/me",
        headers={"Authorization": f"Bearer {token}", "Cookie": "sid=abc123", "X-API-Key": "k" * 40},
    )
    assert response.status_code == 401
    [line] = exchanges(logs)
    headers = line["request_headers"]
    assert headers["authorization"] == headers["cookie"] == headers["x-api-key"] == "***"
    assert line["response_body"]["status"] == 401  # the problem, as JSON
    assert line["response_body"]["request_id"] == response.headers["x-request-id"]
    raw = logs.stream.getvalue().decode()
    assert token not in raw and "abc123" not in raw and "k" * 40 not in raw


async def test_exempt_paths_and_other_content(client: httpx.AsyncClient, logs: LogCapture) -> None:
    assert (await client.get("/health")).status_code == 200
    assert exchanges(logs) == []  # exempt by default
    big = {"email": "a@example.com", "password": "x" * (LIMIT + 10)}
    await client.post("/api/v1/users", json=big)
    await client.post("/upload", content=b"\x00\x01binary", headers={"content-type": "image/png"})
    await client.post("/api/v1/auth/login", data={"username": "eve@example.com", "password": "pw"})
    over, binary, form = exchanges(logs)
    assert over["request_body"].endswith("over LOG_REQUEST_BODY_MAX_BYTES: not logged]")
    assert "x" * 100 not in logs.stream.getvalue().decode()
    assert binary["request_body"] == "[image/png, 8 bytes, not logged]"
    assert form["request_body"] == {"username": "e***@example.com", "password": "***"}


async def test_off_by_default_and_then_not_installed(make_settings: SettingsFactory) -> None:
    app = create_app(make_settings())
    assert RequestLogging not in [m.cls for m in app.user_middleware]
    on = create_app(make_settings(log=LogSettings(requests=True)))
    assert RequestLogging in [m.cls for m in on.user_middleware]


def test_a_pattern_that_is_not_a_regex_is_refused() -> None:
    with pytest.raises(ValueError, match="LOG_MASK_PATTERNS"):
        LogSettings(mask_patterns=["(unclosed"])


# Generated bodies through the real app: nothing sensitive in any line it writes.
# A prefix no id, timestamp or digest in a line can contain by chance.
secret = st.from_regex(r"[A-Za-z0-9]{10,20}", fullmatch=True).map(lambda s: "Zq9" + s)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children)
    ),
    max_leaves=8,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    secrets=st.tuples(secret, secret, secret),
    local=st.from_regex(r"[a-z]{3,10}", fullmatch=True),
    extra=json_values,
)
async def test_generated_bodies_never_leak(
    client: httpx.AsyncClient,
    logs: LogCapture,
    secrets: tuple[str, str, str],
    local: str,
    extra: Any,
) -> None:
    password, token, nickname = secrets
    logs.clear()
    body = {
        "email": f"{local}@example.org",
        "password": password,
        "profile": {"refresh_token": token, "nickname": nickname, "extra": extra},
    }
    sent = await client.post(f"/upload?access_token={token}", json=body)
    assert sent.status_code == 200  # the app read the body: the log saw all of it
    raw = logs.stream.getvalue().decode()
    [line] = exchanges(logs)
    assert line["request_body"]["profile"]["nickname"] == "***"
    for value in (password, token, nickname, f"{local}@example.org"):
        assert value not in raw
