"""Request and response logging (LOG_REQUESTS, off by default): one `http.exchange` line per
request with the method, route, masked query and headers, the masked request and response
bodies (up to LOG_REQUEST_BODY_MAX_BYTES each), sizes, status and duration.

Pure ASGI and passive: it copies body chunks as the application reads and writes them (the
input guard's limits apply as usual; nothing is read ahead or buffered for the app), so a
request it logs behaves exactly as one it does not. Bodies are logged only for textual content
types (JSON, forms, text); others say what they were. Everything written goes through the
PIIMasker (observability/pii.py) first; the log pipeline's own redaction applies after it.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from example_service.middleware.access_log import route_template
from example_service.observability.logging import get_logger
from example_service.observability.pii import PIIMasker

logger = get_logger("example_service.http")

_TEXTUAL = ("application/json", "application/problem+json", "text/")
_FORM = "application/x-www-form-urlencoded"


class Capture:
    """The first `limit` bytes of a body, and its whole size."""

    __slots__ = ("chunks", "kept", "limit", "size")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.chunks: list[bytes] = []
        self.kept = 0
        self.size = 0

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.kept < self.limit and chunk:
            part = chunk[: self.limit - self.kept]
            self.chunks.append(part)
            self.kept += len(part)

    @property
    def truncated(self) -> bool:
        return self.size > self.kept


class RequestLogging:
    def __init__(
        self, app: ASGIApp, *, masker: PIIMasker, max_body_bytes: int, exempt: list[str]
    ) -> None:
        self.app = app
        self.masker = masker
        self.max_body_bytes = max_body_bytes
        self.exempt = tuple(exempt)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        start = perf_counter()
        request, response = Capture(self.max_body_bytes), Capture(self.max_body_bytes)
        status = 0
        response_type = ""

        async def logged_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                request.add(message.get("body", b""))
            return message

        async def logged_send(message: Message) -> None:
            nonlocal status, response_type
            if message["type"] == "http.response.start":
                status = message["status"]
                response_type = _header(message.get("headers", ()), b"content-type")
            elif message["type"] == "http.response.body":
                response.add(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, logged_receive, logged_send)
        finally:
            self._log(
                scope,
                request=request,
                response=response,
                status=status,
                response_type=response_type,
                duration=perf_counter() - start,
            )

    def _log(
        self,
        scope: Scope,
        *,
        request: Capture,
        response: Capture,
        status: int,
        response_type: str,
        duration: float,
    ) -> None:
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        request_type = _header(scope["headers"], b"content-type")
        client = scope.get("client")
        query = scope.get("query_string", b"").decode("latin-1")
        logger.info(
            "http.exchange",
            method=scope["method"],
            route=route_template(scope),
            path=self.masker.text(scope["path"]),
            query=self.masker.pairs(parse_qsl(query, keep_blank_values=True)),
            client=client[0] if client else None,
            # "request_headers", not "headers": the log's own redaction would hide them all.
            request_headers=self.masker.pairs(headers),
            request_body=self._body(request, request_type),
            request_bytes=request.size,
            status=status or 500,
            response_body=self._body(response, response_type),
            response_bytes=response.size,
            duration_ms=round(duration * 1000.0, 3),
        )

    def _body(self, capture: Capture, content_type: str) -> Any:
        if not capture.size:
            return None
        media = content_type.partition(";")[0].strip().lower()
        if capture.truncated:
            # A cut structure cannot be masked by field name: a password could be left whole.
            return f"[{capture.size} bytes, over LOG_REQUEST_BODY_MAX_BYTES: not logged]"
        if media != _FORM and not media.startswith(_TEXTUAL):
            return f"[{media or 'no content type'}, {capture.size} bytes, not logged]"
        raw = b"".join(capture.chunks)
        if media == _FORM:
            return self.masker.value(dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True)))
        if media.endswith("json"):
            try:
                return self.masker.value(orjson.loads(raw))
            except orjson.JSONDecodeError:
                pass  # logged as the text it is, masked by pattern and by `name: value` pairs
        return self.masker.text(raw.decode("utf-8", errors="replace"))


def _header(headers: Any, name: bytes) -> str:
    for key, value in headers:
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return ""
