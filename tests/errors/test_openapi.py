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
