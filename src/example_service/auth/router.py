"""/auth: login (OAuth2 password form or JSON), refresh, logout."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from example_service.auth.dependencies import CurrentPrincipal
from example_service.auth.metrics import AuthMetrics
from example_service.auth.passwords import MAX_LENGTH
from example_service.auth.schemas import LoginRequest, RefreshRequest, TokenPair
from example_service.auth.service import AuthService
from example_service.db.session import DbSession
from example_service.errors.exceptions import (
    BadRequestError,
    RateLimitError,
    UnauthorizedError,
    UnsupportedMediaTypeError,
)
from example_service.errors.problem import problem_responses
from example_service.ratelimit.login import login_attempt
from example_service.schemas import NO_NUL_PATTERN

router = APIRouter(prefix="/auth", tags=["auth"])

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

# The body is parsed by hand (two media types), so OpenAPI is told what it accepts.
_LOGIN_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": LoginRequest.model_json_schema()},
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["username", "password"],
                    "properties": {
                        "username": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": 320,
                            "pattern": NO_NUL_PATTERN,
                            "description": "The email.",
                        },
                        "password": {
                            "type": "string",
                            "format": "password",
                            "minLength": 1,
                            "maxLength": MAX_LENGTH,
                            "pattern": NO_NUL_PATTERN,
                        },
                        "grant_type": {"type": "string", "enum": ["password"]},
                    },
                }
            },
        },
    }
}


async def _service(request: Request, session: DbSession) -> AuthService:
    state = request.app.state
    return AuthService(session, state.passwords, state.tokens, state.identity_cache)


Service = Annotated[AuthService, Depends(_service)]


async def _login_data(request: Request) -> LoginRequest:
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    raw: Any
    if content_type in _FORM_TYPES:
        form = await request.form()
        raw = {key: value for key, value in form.items() if isinstance(value, str)}
    elif content_type == "application/json" or content_type.endswith("+json"):
        try:
            raw = orjson.loads(await request.body())
        except orjson.JSONDecodeError as exc:
            raise BadRequestError("The request body is not valid JSON.") from exc
    else:
        raise UnsupportedMediaTypeError(
            "Send application/json or application/x-www-form-urlencoded."
        )
    try:
        return LoginRequest.model_validate(raw)
    except ValidationError as exc:
        errors = [{**err, "loc": ("body", *err["loc"])} for err in exc.errors()]
        raise RequestValidationError(errors) from exc


@router.post(
    "/login",
    response_model=TokenPair,
    openapi_extra=_LOGIN_BODY,
    responses=problem_responses(400, 401, 415, 422, 429),
)
async def login(request: Request, service: Service) -> TokenPair:
    """Exchange email and password for an access and a refresh token.

    Failed attempts are limited per account and client address, per account and per client
    address (RATE_LIMIT_LOGIN_*, see `ratelimit.login`); the limits are checked before the
    password, so a refused attempt costs no hashing, and a success does not count.
    """
    data = await _login_data(request)
    state = request.app.state
    metrics: AuthMetrics | None = state.auth_metrics
    try:
        pair = await _checked_login(request, service, data)
    except UnauthorizedError:
        if metrics is not None:
            metrics.login("failed")
        raise
    except RateLimitError:
        if metrics is not None:
            metrics.login("limited")
        raise
    if metrics is not None:
        metrics.login("success")
    return pair


async def _checked_login(request: Request, service: AuthService, data: LoginRequest) -> TokenPair:
    state = request.app.state
    if not state.settings.rate_limit.enabled:
        return await service.login(data.email, data.password)
    client = request.client.host if request.client else None
    async with login_attempt(state.limiter, data.email, client):
        return await service.login(data.email, data.password)


@router.post("/refresh", response_model=TokenPair, responses=problem_responses(401, 422))
async def refresh(data: RefreshRequest, service: Service) -> TokenPair:
    """Trade a refresh token for a new pair; each refresh token works once."""
    return await service.refresh(data.refresh_token)


@router.post(
    "/logout", status_code=204, response_class=Response, responses=problem_responses(400, 401)
)
async def logout(principal: CurrentPrincipal, service: Service) -> None:
    """Revoke the session of the access token: its refresh and access tokens stop working."""
    if principal.session_id is None:
        raise BadRequestError("An API key has no session to log out of.")
    await service.logout(principal.session_id)
