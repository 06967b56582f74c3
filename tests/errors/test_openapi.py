"""FastAPI's HTTPValidationError is replaced by the service's error schemas in OpenAPI."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from example_service.app import create_app
from example_service.settings import AppSettings
from tests.conftest import SettingsFactory


def refs(schema: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "$ref":
                found.add(value)
            else:
                found |= refs(value)
    elif isinstance(schema, list):
        for item in schema:
            found |= refs(item)
    return found


async def test_problem_schema_replaces_http_validation_error(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    components = schema["components"]["schemas"]
    assert "HTTPValidationError" not in components
    assert "ValidationError" not in components
    assert not any(ref.endswith("/HTTPValidationError") for ref in refs(schema))
    signup_422 = schema["paths"]["/signup"]["post"]["responses"]["422"]
    assert signup_422["content"]["application/problem+json"]["schema"]["$ref"].endswith(
        "/ValidationProblemDetail"
    )
    assert "errors" in components["ValidationProblemDetail"]["properties"]
    info_500 = schema["paths"]["/api/v1/info"]["get"]["responses"]["500"]
    assert info_500["content"]["application/problem+json"]["schema"]["$ref"].endswith(
        "/ProblemDetail"
    )


@pytest.mark.parametrize("error_format", ["envelope"])
def test_envelope_schema(make_settings: SettingsFactory, error_format: str) -> None:
    app = create_app(make_settings(app=AppSettings(environment="test", error_format=error_format)))
    schema = app.openapi()
    components = schema["components"]["schemas"]
    assert "ErrorEnvelope" in components
    assert "ProblemDetail" not in components
    info_500 = schema["paths"]["/api/v1/info"]["get"]["responses"]["500"]
    assert info_500["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorEnvelope")


def test_every_operation_declares_what_the_edge_answers(make_settings: SettingsFactory) -> None:
    schema = create_app(make_settings()).openapi()
    operations = [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    ]
    assert len(operations) > 10
    for path, method, operation in operations:
        declared = set(operation["responses"])
        expected = {"400", "413", "431"} | (
            {"415"} if method in ("post", "put", "patch") else set()
        )
        assert expected <= declared, (path, method, expected - declared)
        problem = operation["responses"]["431"]["content"]["application/problem+json"]
        assert problem["schema"]["$ref"].endswith("/ProblemDetail")


def test_the_login_form_declares_what_it_refuses(make_settings: SettingsFactory) -> None:
    login = create_app(make_settings()).openapi()["paths"]["/api/v1/auth/login"]["post"]
    form = login["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert form["properties"]["username"]["minLength"] == 1
    assert form["properties"]["password"]["minLength"] == 1


@pytest.mark.parametrize(
    "options",
    [
        {"data": {"email": "a@example.com", "password": "violet kettle orbit"}},
        {"files": {"email": (None, "a@example.com")}},
        {"content": b"email=a", "headers": {"content-type": "text/plain"}},
    ],
)
async def test_a_json_operation_refuses_other_bodies_with_415(
    client: httpx.AsyncClient, options: dict[str, Any]
) -> None:
    response = await client.post("/api/v1/users", **options)
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_operations_that_need_the_database_declare_503(make_settings: SettingsFactory) -> None:
    paths = create_app(make_settings()).openapi()["paths"]
    assert "503" in paths["/api/v1/users/me"]["get"]["responses"]
    assert "503" in paths["/api/v1/auth/login"]["post"]["responses"]
    assert "503" not in paths["/api/v1/info"]["get"]["responses"]
    ready_503 = paths["/api/v1/health/ready"]["get"]["responses"]["503"]
    assert ready_503["content"]["application/json"]["schema"]["$ref"].endswith("/Readiness")
