"""The error contract: one `Problem`, rendered as RFC 9457 problem details or as the envelope.

Both renderings come from the same object so that the two formats cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field

from example_service.errors.codes import title_for_status
from example_service.observability.context import current_request_id

ErrorFormat = Literal["problem", "envelope"]
PROBLEM_JSON = "application/problem+json"


@dataclass(slots=True, frozen=True)
class FieldError:
    loc: tuple[str | int, ...]
    message: str
    type: str

    @property
    def field(self) -> str:
        parts = self.loc[1:] if self.loc and self.loc[0] == "body" else self.loc
        return ".".join(str(p) for p in parts) or "body"


@dataclass(slots=True)
class Problem:
    status: int
    code: str
    title: str
    detail: str
    headers: dict[str, str] = field(default_factory=dict)
    errors: list[FieldError] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class ProblemRenderer:
    """Turns a `Problem` into response parts for the configured format."""

    def __init__(
        self, error_format: ErrorFormat = "problem", type_base: str = "/problems/"
    ) -> None:
        self.error_format = error_format
        self.type_base = type_base

    @property
    def media_type(self) -> str:
        return PROBLEM_JSON if self.error_format == "problem" else "application/json"

    def body(self, problem: Problem, path: str) -> dict[str, Any]:
        request_id = current_request_id()
        if self.error_format == "envelope":
            details: Any = None
            if problem.errors is not None:
                details = [
                    {"loc": list(e.loc), "msg": e.message, "type": e.type} for e in problem.errors
                ]
            elif problem.extra:
                details = problem.extra
            return {
                "error": {
                    "code": problem.code,
                    "message": problem.detail,
                    "request_id": request_id,
                    "details": details,
                }
            }
        body: dict[str, Any] = {
            "type": f"{self.type_base}{problem.code.replace('_', '-')}",
            "title": problem.title,
            "status": problem.status,
            "detail": problem.detail,
            "instance": path,
            "code": problem.code,
            "request_id": request_id,
        }
        if problem.errors is not None:
            body["errors"] = [
                {"field": e.field, "message": e.message, "type": e.type} for e in problem.errors
            ]
        for key, value in problem.extra.items():
            body.setdefault(key, value)
        return body

    def render(self, problem: Problem, path: str) -> tuple[bytes, list[tuple[bytes, bytes]]]:
        """Body bytes and raw ASGI headers (content type, length and the problem's own)."""
        payload = orjson.dumps(self.body(problem, path))
        headers = [
            (b"content-type", self.media_type.encode()),
            (b"content-length", str(len(payload)).encode()),
        ]
        headers.extend(
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in problem.headers.items()
            if name.lower() not in {"content-type", "content-length"}
        )
        return payload, headers


# --- OpenAPI schemas of the two formats ---------------------------------------------------------


class FieldErrorModel(BaseModel):
    field: str = Field(examples=["email"])
    message: str = Field(examples=["value is not a valid email address"])
    type: str = Field(examples=["value_error"])


class ProblemDetail(BaseModel):
    """RFC 9457 problem details with the service's extension members."""

    model_config = ConfigDict(extra="allow", title="ProblemDetail")

    type: str = Field(examples=["/problems/not-found"])
    title: str = Field(examples=["Not Found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["The requested resource was not found."])
    instance: str = Field(examples=["/api/v1/users/0b0e..."])
    code: str = Field(examples=["not_found"])
    request_id: str | None = Field(examples=["4f1c2d0e9b8a4c7d8e6f5a4b3c2d1e0f"])


class ValidationProblemDetail(ProblemDetail):
    model_config = ConfigDict(extra="allow", title="ValidationProblemDetail")

    errors: list[FieldErrorModel]


class ErrorBody(BaseModel):
    code: str
    message: str
    request_id: str | None
    details: Any = None


class ErrorEnvelope(BaseModel):
    error: ErrorBody


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries declaring the error statuses an endpoint can return.

    Declared as problem details; the OpenAPI post-processing swaps in the envelope schema when
    `APP_ERROR_FORMAT=envelope`.
    """
    return {
        status: {
            "model": ProblemDetail,
            "content": {PROBLEM_JSON: {}},
            "description": title_for_status(status),
        }
        for status in statuses
    }
