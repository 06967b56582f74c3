"""An app with routes that fail in every way the error contract covers."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import Depends, FastAPI, HTTPException
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from starlette.types import ASGIApp, Receive, Scope, Send

from example_service import errors
from example_service.app import create_app
from example_service.settings import Settings


class Signup(BaseModel):
    email: str = Field(min_length=3)
    password: str = Field(min_length=8)
    age: int


def failing_dependency() -> None:
    raise RuntimeError("dependency exploded: postgres://admin:hunter2@db/prod")


class FailingMiddleware:
    """Raises for one path, passes everything else."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/boom/middleware":
            raise RuntimeError("middleware exploded: SELECT * FROM secrets")
        if scope["type"] == "http" and scope["path"] == "/boom/middleware-apperror":
            raise errors.RateLimitError(retry_after=7)
        await self.app(scope, receive, send)


def add_failing_routes(app: FastAPI) -> None:
    @app.get("/boom/handler")
    async def boom_handler() -> None:
        raise RuntimeError("handler exploded: /etc/passwd secret=abc")

    @app.get("/boom/dependency")
    async def boom_dependency(_: Annotated[None, Depends(failing_dependency)]) -> None:
        return None

    @app.get("/boom/http/{status}")
    async def boom_http(status: int) -> None:
        raise HTTPException(status_code=status, detail="custom detail")

    @app.get("/boom/integrity")
    async def boom_integrity() -> None:
        raise IntegrityError(
            "INSERT INTO users (email) VALUES ('a@b.c')",
            {},
            Exception("UNIQUE constraint failed: users.email"),
        )

    @app.post("/signup")
    async def signup(body: Signup) -> dict[str, str]:
        return {"email": body.email}

    @app.get("/items/{item_id}")
    async def item(item_id: int, limit: int = 10) -> dict[str, int]:
        return {"item_id": item_id, "limit": limit}

    error_classes = {
        "bad_request": errors.BadRequestError("bad thing"),
        "unauthorized": errors.UnauthorizedError(),
        "forbidden": errors.ForbiddenError(),
        "not_found": errors.NotFoundError("User not found"),
        "conflict": errors.ConflictError(),
        "request_timeout": errors.RequestTimeoutError(),
        "payload_too_large": errors.PayloadTooLargeError(),
        "unsupported_media_type": errors.UnsupportedMediaTypeError(),
        "rate_limited": errors.RateLimitError(retry_after=30),
        "service_unavailable": errors.ServiceUnavailableError(retry_after=5),
        "circuit_open": errors.CircuitBreakerOpenError(),
        "upstream_error": errors.UpstreamError(),
        "upstream_timeout": errors.UpstreamTimeoutError(),
        "internal_error": errors.InternalServerError(),
    }

    @app.get("/app-error/{name}")
    async def app_error(name: str) -> None:
        raise error_classes[name]

    app.add_middleware(FailingMiddleware)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    application = create_app(settings)
    add_failing_routes(application)
    return application
