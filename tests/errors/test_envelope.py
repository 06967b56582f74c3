"""APP_ERROR_FORMAT=envelope renders {"error": {code, message, request_id, details}}."""

from __future__ import annotations

import httpx
import pytest

from example_service.settings import AppSettings, Settings
from tests.conftest import SettingsFactory


@pytest.fixture
def settings(make_settings: SettingsFactory) -> Settings:
    return make_settings(app=AppSettings(environment="test", error_format="envelope"))


def envelope(response: httpx.Response) -> dict[str, object]:
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "request_id", "details"}
    assert error["request_id"] == response.headers["x-request-id"]
    return dict(error)


async def test_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/does-not-exist")
    assert response.status_code == 404
    error = envelope(response)
    assert error["code"] == "not_found"
    assert error["message"] == "Not Found"
    assert error["details"] is None


async def test_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/signup", json={"email": "someone@example.com", "age": 3})
    assert response.status_code == 422
    error = envelope(response)
    assert error["code"] == "validation_error"
    assert error["details"] == [
        {"loc": ["body", "password"], "msg": "Field required", "type": "missing"}
    ]


async def test_500(client: httpx.AsyncClient) -> None:
    response = await client.get("/boom/handler")
    assert response.status_code == 500
    error = envelope(response)
    assert error == {
        "code": "internal_error",
        "message": "Internal server error",
        "request_id": response.headers["x-request-id"],
        "details": None,
    }


async def test_429_details_carry_retry_after(client: httpx.AsyncClient) -> None:
    response = await client.get("/app-error/rate_limited")
    assert envelope(response)["details"] == {"retry_after": 30}
    assert response.headers["retry-after"] == "30"
