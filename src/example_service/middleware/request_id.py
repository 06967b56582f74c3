"""Request id: accept a sane incoming `X-Request-ID`, else generate one; echo it on the response.

The id is set in a ContextVar for the duration of the request (every log line carries it) and in
`scope["state"]` so handlers can read `request.state.request_id`.
"""

from __future__ import annotations

import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from example_service.observability.context import request_id_var

HEADER = b"x-request-id"
MAX_LENGTH = 64
# Letters, digits and a few separators: enough for UUIDs, ULIDs and trace ids, nothing that could
# split a log line or a header.
_SAFE = re.compile(rb"[A-Za-z0-9._:\-]{1,%d}" % MAX_LENGTH)


def accept_request_id(value: bytes) -> str | None:
    return value.decode("ascii") if _SAFE.fullmatch(value) else None


def new_request_id() -> str:
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        request_id = None
        for name, value in scope["headers"]:
            if name == HEADER:
                request_id = accept_request_id(value)
                break
        if request_id is None:
            request_id = new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        header = (HEADER, request_id.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *(h for h in message.get("headers", ()) if h[0].lower() != HEADER),
                    header,
                ]
            await send(message)

        token = request_id_var.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)
