"""Every error path returns problem+json whose status and request id match the response."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance", "code", "request_id"}


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body.keys() >= PROBLEM_KEYS
    assert body["status"] == status
    assert body["code"] == code
    assert body["request_id"] == response.headers["x-request-id"]
    assert body["instance"] == response.request.url.path
    assert body["type"].endswith(code.replace("_", "-"))
    return body


async def test_unknown_route_is_404(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/does-not-exist"), 404, "not_found")


async def test_wrong_method_is_405_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.delete("/api/v1/info")
    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == "GET"


async def test_validation_error_lists_fields_without_echoing_input(
    client: httpx.AsyncClient,
) -> None:
    secret = "Zq9#x"  # a password that fails validation must not come back
    response = await client.post("/signup", json={"email": "x", "password": secret})
    body = assert_problem(response, 422, "validation_error")
    fields = {e["field"]: e for e in body["errors"]}
    assert set(fields) == {"email", "password", "age"}
    assert fields["age"]["type"] == "missing"
    assert all(set(e) == {"field", "message", "type"} for e in body["errors"])
    assert secret not in response.text
    assert body["detail"] == "Request validation failed for 3 fields"


async def test_query_and_path_validation(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/items/abc?limit=x"), 422, "validation_error")
    assert {e["field"] for e in body["errors"]} == {"path.item_id", "query.limit"}


async def test_malformed_json_is_422_not_500(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/signup", content=b'{"email": ', headers={"content-type": "application/json"}
    )
    assert_problem(response, 422, "validation_error")


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "bad_request"),
        (401, "unauthorized"),
        (403, "forbidden"),
        (404, "not_found"),
        (409, "conflict"),
        (418, "i'm_a_teapot"),
        (429, "rate_limited"),
        (502, "upstream_error"),
        (503, "service_unavailable"),
        (504, "upstream_timeout"),
    ],
)
async def test_http_exception(client: httpx.AsyncClient, status: int, code: str) -> None:
    body = assert_problem(await client.get(f"/boom/http/{status}"), status, code)
    assert body["detail"] == "custom detail"


@pytest.mark.parametrize(
    ("name", "status", "header"),
    [
        ("bad_request", 400, None),
        ("unauthorized", 401, ("www-authenticate", "Bearer")),
        ("forbidden", 403, None),
        ("not_found", 404, None),
        ("conflict", 409, None),
        ("request_timeout", 408, ("connection", "close")),
        ("payload_too_large", 413, None),
        ("unsupported_media_type", 415, None),
        ("rate_limited", 429, ("retry-after", "30")),
        ("service_unavailable", 503, ("retry-after", "5")),
        ("circuit_open", 503, None),
        ("upstream_error", 502, None),
        ("upstream_timeout", 504, None),
        ("internal_error", 500, None),
    ],
)
async def test_app_errors(
    client: httpx.AsyncClient, name: str, status: int, header: tuple[str, str] | None
) -> None:
    code = {"circuit_open": "service_unavailable"}.get(name, name)
    body = assert_problem(await client.get(f"/app-error/{name}"), status, code)
    response_headers = (await client.get(f"/app-error/{name}")).headers
    if header is not None:
        assert response_headers[header[0]] == header[1]
    if name == "not_found":
        assert body["detail"] == "User not found"
    if name == "rate_limited":
        assert body["retry_after"] == 30
    if name == "circuit_open":
        assert body["title"] == "Circuit Breaker Open"


async def test_integrity_error_is_409_without_sql(client: httpx.AsyncClient) -> None:
    response = await client.get("/boom/integrity")
    assert_problem(response, 409, "conflict")
    assert "INSERT" not in response.text and "UNIQUE" not in response.text


@pytest.mark.parametrize("where", ["handler", "dependency", "middleware"])
async def test_unhandled_exception_is_generic_500_and_service_goes_on(
    client: httpx.AsyncClient, where: str, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    response = await client.get(f"/boom/{where}", headers={"x-request-id": f"req-{where}"})
    body = assert_problem(response, 500, "internal_error")
    assert body["request_id"] == f"req-{where}"
    assert body["detail"] == "Internal server error"
    for leak in ("exploded", "Traceback", "secret", "hunter2", "SELECT", "/etc/passwd"):
        assert leak not in response.text
    # the next request is served normally
    assert (await client.get("/api/v1/info")).status_code == 200


async def test_apperror_from_middleware_keeps_its_status(client: httpx.AsyncClient) -> None:
    response = await client.get("/boom/middleware-apperror")
    assert_problem(response, 429, "rate_limited")
    assert response.headers["retry-after"] == "7"


async def test_500_carries_outer_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/boom/middleware")
    assert response.status_code == 500
    assert "x-process-time" in response.headers
    assert len(response.headers["x-request-id"]) == 32
