"""Exceptions -> `Problem`: the one mapping used by the handlers and by the error boundary."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException

from example_service.db.errors import is_unavailable
from example_service.errors.codes import code_for_status, title_for_status
from example_service.errors.exceptions import AppError, UnprocessableError
from example_service.errors.problem import FieldError, Problem
from example_service.resilience.breaker import BreakerOpenError

INTERNAL_DETAIL = "Internal server error"


def from_app_error(exc: AppError) -> Problem:
    errors = None
    if isinstance(exc, UnprocessableError):
        errors = [
            FieldError(loc=("body", field), message=message, type=kind)
            for field, message, kind in exc.field_errors
        ]
    return Problem(
        status=exc.status,
        code=exc.code,
        title=exc.title,
        detail=exc.detail,
        headers=exc.headers,
        errors=errors,
        extra=exc.extra,
    )


def from_http_exception(exc: HTTPException) -> Problem:
    title = title_for_status(exc.status_code)
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail else title
    return Problem(
        status=exc.status_code,
        code=code_for_status(exc.status_code),
        title=title,
        detail=detail,
        headers=dict(exc.headers or {}),
    )


def field_errors(errors: Sequence[Any]) -> list[FieldError]:
    """Pydantic errors without `input` or `ctx`: a submitted secret is never echoed back."""
    out: list[FieldError] = []
    for err in errors:
        loc = tuple(err.get("loc", ()))
        out.append(
            FieldError(loc=loc, message=str(err.get("msg", "")), type=str(err.get("type", "")))
        )
    return out


def from_validation_error(exc: RequestValidationError) -> Problem:
    errors = field_errors(exc.errors())
    count = len(errors)
    return Problem(
        status=422,
        code="validation_error",
        title="Validation Error",
        detail=f"Request validation failed for {count} field{'s' if count != 1 else ''}",
        errors=errors,
    )


def from_integrity_error(_exc: IntegrityError) -> Problem:
    # The driver's message names tables, columns and values: never shown to the client.
    return Problem(
        status=409,
        code="conflict",
        title="Conflict",
        detail="The request conflicts with existing data.",
    )


# What a client is told to wait when a dependency failed without saying for how long.
UNAVAILABLE_RETRY_AFTER = 5


def unavailable_problem(retry_after: float = UNAVAILABLE_RETRY_AFTER) -> Problem:
    # Which dependency, and why, is for the log: the client only needs to know when to retry.
    return Problem(
        status=503,
        code="service_unavailable",
        title="Service Unavailable",
        detail="The service is temporarily unavailable; retry later.",
        headers={"Retry-After": str(max(1, math.ceil(retry_after)))},
    )


def from_database_error(exc: BaseException) -> Problem | None:
    """503 when the database (or its breaker) did not let the request through; 422 for a value
    it refused; None for what is a bug (a 500)."""
    if isinstance(exc, BreakerOpenError):
        return unavailable_problem(exc.retry_after)
    if is_unavailable(exc):
        return unavailable_problem()
    if isinstance(exc, DataError):
        return Problem(
            status=422,
            code="validation_error",
            title="Validation Error",
            detail="A value in the request cannot be stored.",
        )
    return None


def internal_problem() -> Problem:
    return Problem(
        status=500, code="internal_error", title="Internal Server Error", detail=INTERNAL_DETAIL
    )


def problem_for(exc: BaseException) -> Problem:
    """The problem for any exception; unknown ones become a generic 500."""
    if isinstance(exc, AppError):
        return from_app_error(exc)
    if isinstance(exc, RequestValidationError):
        return from_validation_error(exc)
    if isinstance(exc, HTTPException):
        return from_http_exception(exc)
    if isinstance(exc, IntegrityError):
        return from_integrity_error(exc)
    return from_database_error(exc) or internal_problem()
