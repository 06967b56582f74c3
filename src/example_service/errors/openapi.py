"""OpenAPI: FastAPI's `HTTPValidationError` replaced by the service's error schemas, and the
statuses the edge can answer on any operation declared on every operation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel
from starlette.routing import BaseRoute

from example_service.errors.codes import title_for_status
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
        for method, operation in path_item.items():
            responses: dict[str, Any] = operation.get("responses", {})
            for edge_status in edge_statuses(method):
                responses.setdefault(
                    str(edge_status),
                    {
                        "description": title_for_status(edge_status),
                        "content": {media: {"schema": {"$ref": error_ref}}},
                    },
                )
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


# What the input guard and the body parser answer before any route runs: a NUL byte in the URL,
# a body that is not valid JSON or nests too deep (400); a body over the limit (413); too many or
# too large headers (431); and for methods with a body, a content type not accepted (415).
_EDGE_STATUSES = (400, 413, 431)
_BODY_METHODS = frozenset({"post", "put", "patch"})


def edge_statuses(method: str) -> tuple[int, ...]:
    return (*_EDGE_STATUSES, 415) if method.lower() in _BODY_METHODS else _EDGE_STATUSES


def _refers_to(content: dict[str, Any], name: str) -> bool:
    return any(
        str(body.get("schema", {}).get("$ref", "")).endswith(f"/{name}")
        for body in content.values()
    )


def _refers_to_fastapi_validation(content: dict[str, Any]) -> bool:
    return _refers_to(content, "HTTPValidationError")


Rewrite = Callable[[dict[str, Any], Sequence[BaseRoute]], dict[str, Any]]


def install_openapi(app: FastAPI, error_format: ErrorFormat, *rewrites: Rewrite) -> None:
    """The app's OpenAPI document, built once; `rewrites` (other packages' additions) run on it
    after the error schemas', with the app's routes."""

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
            schema = rewrite_error_schemas(schema, error_format)
            for rewrite in rewrites:
                schema = rewrite(schema, app.routes)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
