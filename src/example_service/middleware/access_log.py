"""One access-log line per request, the `X-Process-Time` header, and request telemetry.

Sits outside the error boundary, so it sees the status the client sees, 500s included. Routes are
labelled by their template (`/api/v1/users/{user_id}`), never the raw path.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from example_service.observability.telemetry import Telemetry

UNMATCHED_ROUTE = "<unmatched>"
_PROCESS_TIME = b"x-process-time"


def route_template(scope: Scope) -> str:
    """The matched route's full path template, or one shared label for unmatched paths.

    FastAPI >= 0.160 keeps included routers nested: `scope["route"]` then carries the path
    relative to its router, while the effective route context carries the full one.
    """
    fastapi_scope = scope.get("fastapi")
    if isinstance(fastapi_scope, dict):
        context = fastapi_scope.get("effective_route_context")
        path = getattr(context, "path", None)
        if isinstance(path, str) and path:
            return path
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) and path else UNMATCHED_ROUTE


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp, *, logger: Any | None, telemetry: Telemetry) -> None:
        self.app = app
        self.logger = logger
        self.telemetry = telemetry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        start = perf_counter()
        status = 500

        async def send_timed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                elapsed_ms = (perf_counter() - start) * 1000.0
                message["headers"] = [
                    *message.get("headers", ()),
                    (_PROCESS_TIME, b"%.3f" % elapsed_ms),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_timed)
        finally:
            duration = perf_counter() - start
            route = route_template(scope)
            method = scope["method"]
            self.telemetry.observe_request(method, route, status, duration)
            if self.logger is not None:
                client = scope.get("client")
                self.logger.info(
                    "http.request",
                    method=method,
                    route=route,
                    status=status,
                    duration_ms=round(duration * 1000.0, 3),
                    client=client[0] if client else None,
                )
