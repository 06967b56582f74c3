"""FastAPI exception handlers: every known error type leaves as a rendered `Problem`."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from example_service.errors.exceptions import AppError, RateLimitError
from example_service.errors.problem import Problem, ProblemRenderer
from example_service.errors.translate import problem_for
from example_service.middleware.access_log import route_template
from example_service.middleware.scope import INPUT_REJECTED, RESPONSE_HEADERS
from example_service.observability.logging import get_logger
from example_service.routing import allowed_methods

logger = get_logger("example_service.errors")


def log_problem(problem: Problem, exc: BaseException, path: str, route: str | None = None) -> None:
    """4xx at INFO without a stack; 5xx at ERROR with the stack (request id comes from context).

    An authorization denial (`AppError.denied_to`) is also a security event: the route template
    and the caller, never the target (the path may name it).
    """
    if isinstance(exc, AppError) and exc.denied_caller is not None:
        logger.warning(
            "security.authz_denied",
            route=route,
            caller=exc.denied_caller,
            status=problem.status,
            code=problem.code,
        )
    if problem.status in (502, 503, 504):
        # A dependency is down or failed: one line per request, no stack (the breaker logs the
        # outage, the outbound client what the service did).
        logger.warning(
            "http.error",
            status=problem.status,
            code=problem.code,
            path=path,
            error=type(exc).__name__,
        )
    elif problem.status >= 500:
        logger.error(
            "http.error",
            status=problem.status,
            code=problem.code,
            path=path,
            exc_info=exc,
        )
    else:
        logger.info("http.error", status=problem.status, code=problem.code, path=path)


def problem_response(renderer: ProblemRenderer, problem: Problem, path: str) -> Response:
    body, headers = renderer.render(problem, path)
    response = Response(content=body, status_code=problem.status)
    response.raw_headers = headers
    return response


def register_exception_handlers(app: FastAPI, renderer: ProblemRenderer) -> None:
    async def handle(request: Request, exc: Exception) -> Response:
        problem = problem_for(exc)
        path = request.url.path
        scope = request.scope
        if problem.status == 405:
            # The route that raised knows only its own methods; the path may have more routes.
            problem.headers["Allow"] = allowed_methods(request.app.router.routes, scope)
        if INPUT_REJECTED not in scope:  # else the input guard's own problem is sent and logged
            log_problem(problem, exc, path, route_template(scope))
        if isinstance(exc, AppError) and exc.denied_caller is not None:
            metrics = request.app.state.auth_metrics  # None unless TELEMETRY_MODE=prometheus
            if metrics is not None:
                metrics.denied(problem.status)
        if isinstance(exc, RateLimitError):
            # A refusal carries the headers of the policy that refused, not the global policy's
            # that the edge would otherwise add too.
            request.scope.pop(RESPONSE_HEADERS, None)
        return problem_response(renderer, problem, path)

    handled: tuple[Any, ...] = (HTTPException, RequestValidationError, AppError, IntegrityError)
    for exc_type in handled:
        app.add_exception_handler(exc_type, handle)
