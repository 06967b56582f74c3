"""OpenAPI: FastAPI's `HTTPValidationError` replaced by the service's error schemas."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from example_service.errors.problem import (
    PROBLEM_JSON,
    ErrorEnvelope,
    ErrorFormat,
    ProblemDetail,
    ValidationProblemDetail,
)

_REF = "#/components/schemas/{model}"


def _add_schema(schemas: dict[str, Any], model: type[BaseModel]) -> str:
    schema = model.model_json_schema(ref_template=_REF)
    schemas.update(schema.pop("$defs", {}))
    name = str(schema.get("title", model.__name__))
    schemas[name] = schema
    return f"#/components/schemas/{name}"


def rewrite_error_schemas(schema: dict[str, Any], error_format: ErrorFormat) -> dict[str, Any]:
    schemas: dict[str, Any] = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    if error_format == "problem":
        media = PROBLEM_JSON
        error_ref = _add_schema(schemas, ProblemDetail)
        validation_ref = _add_schema(schemas, ValidationProblemDetail)
    else:
        media = "application/json"
        schemas.pop("ProblemDetail", None)
        error_ref = validation_ref = _add_schema(schemas, ErrorEnvelope)

    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            responses: dict[str, Any] = operation.get("responses", {})
            for status, response in responses.items():
                if not status.isdigit() or int(status) < 400:
                    continue
                content = response.get("content", {})
                if status == "422" and _refers_to_fastapi_validation(content):
                    responses[status] = {
                        "description": "Validation Error",
                        "content": {media: {"schema": {"$ref": validation_ref}}},
                    }
                elif _refers_to(content, "ProblemDetail"):
                    response["content"] = {media: {"schema": {"$ref": error_ref}}}
    return schema


def _refers_to(content: dict[str, Any], name: str) -> bool:
    return any(
        str(body.get("schema", {}).get("$ref", "")).endswith(f"/{name}")
        for body in content.values()
    )


def _refers_to_fastapi_validation(content: dict[str, Any]) -> bool:
    return _refers_to(content, "HTTPValidationError")


def install_openapi(app: FastAPI, error_format: ErrorFormat) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
                servers=app.servers,
            )
            app.openapi_schema = rewrite_error_schemas(schema, error_format)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
