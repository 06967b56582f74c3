"""The edge: the outermost layer, doing in one frame what would otherwise be four layers.

Request id, timing (`X-Process-Time`), security headers, access log, telemetry and the error
boundary all need to see every request and every response start. Each ASGI layer costs a
coroutine frame per call and per `send`; measured under uvicorn, three separate layers cost ~3x
what this one does. So the concerns stay in their own modules (request_id, security_headers,
access_log, errors.boundary, telemetry) and this class only sequences them around one send
wrapper. The security headers are added here so that the 500s the edge renders carry them too,
and so are headers inner layers leave in the scope (`RESPONSE_HEADERS`).
"""

from __future__ import annotations

from time import perf_counter

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from example_service.errors.boundary import unhandled_response
from example_service.errors.problem import ProblemRenderer
from example_service.middleware.access_log import AccessLog, route_template
from example_service.middleware.request_id import HEADER as REQUEST_ID_HEADER
from example_service.middleware.request_id import request_id_from
from example_service.middleware.scope import RESPONSE_HEADERS
from example_service.middleware.security_headers import (
    Headers,
    SecurityHeaders,
    merge,
    needs_merge,
)
from example_service.observability.context import request_id_var
from example_service.observability.logging import get_logger
from example_service.observability.telemetry import NoopTelemetry, Telemetry

_PROCESS_TIME = b"x-process-time"
_CONTENT_LENGTH = b"content-length"
logger = get_logger("example_service.http")


class EdgeMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        renderer: ProblemRenderer,
        telemetry: Telemetry,
        access_log: AccessLog | None,
        security: SecurityHeaders | None = None,
        debug: bool = False,
        slow_request_seconds: float = 0.0,
    ) -> None:
        self.app = app
        self.debug = debug
        self.telemetry = telemetry
        self.slow = slow_request_seconds  # 0: not watched
        self.security = security
        self.renderer = renderer
        # Noop telemetry (the default) costs not even a call per request.
        self.observe = None if isinstance(telemetry, NoopTelemetry) else telemetry.observe_request
        # Prometheus only: request and response sizes (the others never pay for counting).
        self.sizes = getattr(telemetry, "observe_sizes", None)
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        start = perf_counter()
        request_id = request_id_from(scope["headers"])
        state = scope.get("state")  # the server's copy of the lifespan state, as a rule
        if state is None:
            state = scope["state"] = {}
        state["request_id"] = request_id
        status = 0
        sent = 0
        sizes = self.sizes

        async def send_wrapper(message: Message) -> None:
            nonlocal status, sent
            if sizes is not None and message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            elif message["type"] == "http.response.start":
                status = message["status"]
                # A new list: the response's own header list may be shared between requests.
                own = message.get("headers", ())
                extra: Headers = []
                if self.security is not None:
                    extra = self.security.headers_for(scope)
                    if needs_merge(own, self.security.names):
                        own, extra = merge(own, extra), []
                message["headers"] = [
                    *own,
                    *extra,
                    *scope.get(RESPONSE_HEADERS, ()),
                    (REQUEST_ID_HEADER, request_id.encode()),
                    (_PROCESS_TIME, b"%.3f" % ((perf_counter() - start) * 1000.0)),
                ]
            await send(message)

        token = request_id_var.set(request_id)
        try:
            try:
                await self.app(scope, receive, send_wrapper)
            except Exception as exc:
                if status:
                    # Headers are gone: the connection can only be cut; the server does that.
                    raise
                start_message, body_message = unhandled_response(
                    self.renderer, exc, scope["path"], debug=self.debug
                )
                await send_wrapper(start_message)
                await send_wrapper(body_message)
        finally:
            duration = perf_counter() - start
            route = route_template(scope)
            method = scope["method"]
            final_status = status or 500
            if self.observe is not None:
                self._observe(scope, method, route, final_status, duration, sent)
            if self.slow and duration >= self.slow:
                self._slow(method, route, final_status, duration)
            if self.access_log is not None:
                client = scope.get("client")
                self.access_log.write(
                    method,
                    route,
                    final_status,
                    int(duration * 1_000_000.0) / 1000.0,  # ms to 3 decimals; round() is slower
                    client[0] if client else None,
                    request_id=request_id,
                )
            request_id_var.reset(token)

    def _observe(  # noqa: PLR0917 - the request's figures, one call
        self, scope: Scope, method: str, route: str, status: int, duration: float, sent: int
    ) -> None:
        self.telemetry.observe_request(method, route, status, duration)
        if self.sizes is not None:
            self.sizes(method, route, _content_length(scope["headers"]), sent)

    def _slow(self, method: str, route: str, status: int, duration: float) -> None:
        # The route template, never the path: ids and personal data stay out of the line.
        logger.warning(
            "http.slow_request",
            method=method,
            route=route,
            status=status,
            duration_ms=round(duration * 1000.0, 3),
            threshold_ms=round(self.slow * 1000.0, 3),
        )
        self.telemetry.count_slow_request(method, route)


def _content_length(headers: list[tuple[bytes, bytes]]) -> int:
    """The request body's declared length; 0 without one (the input guard refused a bad one)."""
    for name, value in headers:
        if name == _CONTENT_LENGTH:
            return int(value) if value.isdigit() else 0
    return 0
