"""Input limits at the transport: URL bytes, header count and size, body size, type and depth.

One pure-ASGI layer added with `app.add_middleware`, innermost of the protective layers. Its
rejections are rendered here by the error contract's renderer (not raised to the edge) so that
they pass back through CORS: a browser then sees the 413, not a CORS failure. A request without
a body (the common GET) costs a scan of the URL for NUL and one pass over its headers.

The body limit holds while the body streams: an honest Content-Length over the limit is refused
before the app runs; a body without one (chunked) is counted in the wrapped `receive` and cut at
the limit, so no more than the limit plus one chunk is ever held in memory.

The same `receive` waits at most SERVER_BODY_TIMEOUT_SECONDS for each next part of the body
(uvicorn waits for ever): a client that stalls is answered 408 with `Connection: close`. A
response sent before the body has arrived in full also closes the connection. Only requests with
a body pay for either.
"""

from __future__ import annotations

import asyncio
from typing import NoReturn

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from example_service.errors import (
    AppError,
    BadRequestError,
    PayloadTooLargeError,
    RequestHeaderFieldsTooLargeError,
    RequestTimeoutError,
    UnsupportedMediaTypeError,
)
from example_service.errors.boundary import send_problem
from example_service.errors.problem import ProblemRenderer
from example_service.middleware.json_depth import DepthScanner, too_deep
from example_service.middleware.scope import INPUT_REJECTED
from example_service.settings import SecuritySettings

# Methods whose body has a meaning, so whose content type must be one we accept.
_TYPED_METHODS = frozenset({"POST", "PUT", "PATCH"})


class MediaTypes:
    """Accepted media types: exact names and `type/*` or `type/*+suffix` patterns."""

    def __init__(self, allowed: list[str]) -> None:
        self.exact: set[bytes] = set()
        self.patterns: list[tuple[bytes, bytes]] = []
        for item in allowed:
            name = item.strip().lower().encode()
            if b"*" in name:
                prefix, _, suffix = name.partition(b"*")
                self.patterns.append((prefix, suffix))
            else:
                self.exact.add(name)

    def accepts(self, media_type: bytes) -> bool:
        if media_type in self.exact:
            return True
        return any(
            media_type.startswith(prefix) and media_type.endswith(suffix)
            for prefix, suffix in self.patterns
        )


def media_type_of(content_type: bytes) -> bytes:
    return content_type.split(b";", 1)[0].strip().lower()


def is_json(media_type: bytes) -> bool:
    return media_type == b"application/json" or (
        media_type.startswith(b"application/") and media_type.endswith(b"+json")
    )


class InputGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        security: SecuritySettings,
        renderer: ProblemRenderer,
        body_timeout: float,
    ) -> None:
        self.app = app
        self.renderer = renderer
        self.body_timeout = body_timeout
        self.default_limit = security.max_request_size
        # Longest prefix first: the first match is the most specific.
        self.prefix_limits = sorted(
            security.body_limit_map.items(), key=lambda item: len(item[0]), reverse=True
        )
        self.media_types = MediaTypes(security.allowed_content_types)
        self.max_json_depth = security.max_json_depth
        self.max_header_count = security.max_header_count
        self.max_header_bytes = security.max_header_bytes

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.prefix_limits:
            if path.startswith(prefix):
                return limit
        return self.default_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            reader = self.inspect(scope)
        except AppError as exc:
            await send_problem(self.renderer, exc, scope, receive, send)
            return
        if reader is None:
            await self.app(scope, receive, send)
        else:
            await reader(scope, receive, send)

    def inspect(self, scope: Scope) -> _BodyReader | None:
        """Raise for a request refused on its URL and headers; a reader when it has a body."""
        query = scope["query_string"]
        # The path arrives percent-decoded, so "\x00" also catches %00 there. On bytes, `find`
        # rather than `in`: `in` first tries its operand as an int and builds a TypeError.
        if "\x00" in scope["path"] or (
            query and (query.find(b"\x00") != -1 or query.find(b"%00") != -1)
        ):
            raise BadRequestError("The URL contains a NUL byte.")

        headers = scope["headers"]
        if len(headers) > self.max_header_count:
            raise RequestHeaderFieldsTooLargeError(
                f"At most {self.max_header_count} request headers are accepted."
            )
        length: bytes | None = None
        content_type: bytes | None = None
        chunked = False
        max_bytes = self.max_header_bytes
        for name, value in headers:
            if len(name) + len(value) > max_bytes:
                raise RequestHeaderFieldsTooLargeError(
                    f"A request header is longer than {max_bytes} bytes."
                )
            if name == b"content-length":
                length = value
            elif name == b"content-type":
                content_type = value
            elif name == b"transfer-encoding":
                chunked = True

        # HTTP/1 frames a request body only with Content-Length or Transfer-Encoding; HTTP/2 and
        # 3 may stream one without either, so there it is always counted.
        if not chunked and (
            length == b"0" or (length is None and scope.get("http_version", "1.1") < "2")
        ):
            return None

        limit = self.limit_for(scope["path"])
        if length is not None:
            if not length.isdigit():
                raise BadRequestError("Content-Length is not a number.")
            if int(length) > limit:
                raise PayloadTooLargeError(f"The request body exceeds {limit} bytes.")
        media_type = media_type_of(content_type) if content_type is not None else b""
        # Without a declared length (HTTP/2) the body may be empty: only a named type is checked.
        declared = length is not None or chunked or content_type is not None
        if (
            declared
            and scope["method"] in _TYPED_METHODS
            and not self.media_types.accepts(media_type)
        ):
            raise UnsupportedMediaTypeError(
                f"Content type {media_type.decode('latin-1') or '(none)'!r} is not accepted."
            )
        return _BodyReader(self, limit, is_json(media_type))


class _BodyReader:
    """One request's body accounting around the app."""

    def __init__(self, guard: InputGuard, limit: int, json_body: bool) -> None:
        self.app = guard.app
        self.renderer = guard.renderer
        self.limit = limit
        self.max_depth = guard.max_json_depth
        self.scanner: DepthScanner | None = None
        self.check_depth = json_body
        self.received = 0
        self.timeout = guard.body_timeout
        self.complete = False  # the last part of the body has arrived (or the client left)
        self.error: AppError | None = None
        self.started = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def guarded_receive() -> Message:
            if self.complete:
                # Waiting for a disconnect (a streaming response listens for one) has no deadline.
                return await receive()
            try:
                try:
                    async with asyncio.timeout(self.timeout):
                        message = await receive()
                except TimeoutError:
                    self.fail(
                        RequestTimeoutError(
                            f"The request body stalled for more than {self.timeout:g} seconds."
                        )
                    )
                if message["type"] == "http.request":
                    more_body = message.get("more_body", False)
                    self.complete = not more_body
                    self.check(message.get("body", b""), more_body)
                else:
                    self.complete = True
            except AppError:
                scope[INPUT_REJECTED] = True
                raise
            return message

        async def closing_send(message: Message) -> None:
            # Answered before the whole body arrived (a route that never reads it, a body cut at
            # the limit): the server would go on reading and discarding the rest, with no
            # deadline while a client trickles it. The connection is closed instead.
            if message["type"] == "http.response.start" and not self.complete:
                headers = message.get("headers", ())
                if not any(name == b"connection" for name, _ in headers):
                    message["headers"] = [*headers, (b"connection", b"close")]
            await send(message)

        async def guarded_send(message: Message) -> None:
            if self.error is not None and not self.started:
                return  # the app's rendering of our error (FastAPI makes it a 400) is replaced
            self.started = True
            await closing_send(message)

        try:
            await self.app(scope, guarded_receive, guarded_send)
        except AppError as exc:
            if exc is not self.error or self.started:
                raise
        if self.error is not None and not self.started:
            await send_problem(self.renderer, self.error, scope, receive, closing_send)

    def check(self, chunk: bytes, more_body: bool) -> None:
        self.received += len(chunk)
        if self.received > self.limit:
            self.fail(PayloadTooLargeError(f"The request body exceeds {self.limit} bytes."))
        if not self.check_depth:
            return
        if self.scanner is None and not more_body:
            deep = too_deep(chunk, self.max_depth)  # the whole body in one message
        else:
            self.scanner = self.scanner or DepthScanner(self.max_depth)
            deep = self.scanner.feed(chunk)
        if deep:
            self.fail(BadRequestError(f"The JSON body nests deeper than {self.max_depth} levels."))

    def fail(self, error: AppError) -> NoReturn:
        self.error = error
        raise error
