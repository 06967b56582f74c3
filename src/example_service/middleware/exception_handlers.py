"""The innermost layer: exception handlers for errors raised outside routes, and the file stack.

Starlette and FastAPI put two layers here: `ExceptionMiddleware`, which publishes the
exception-handler tables in the scope (the route-level wrapper reads them from there) and
handles what escapes the router (404, 405, errors of mounted apps); and
`AsyncExitStackMiddleware`, which gives FastAPI an exit stack for the uploaded files of form
bodies. Together they cost ~17k instructions on every request (callgrind): two coroutine frames,
a `Request`, a send wrapper, and an exit stack entered and closed even though almost no request
pushes anything on it. This one layer does both jobs with one frame, no send wrapper, and closes
the stack only when something was pushed.

It serves the same scope keys the framework reads (`SCOPE_HANDLERS`, `SCOPE_FILE_STACK`); the
tests of forms, 404/405 and route errors fail if either changes.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from contextlib import AsyncExitStack
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException, WebSocketException
from starlette.requests import Request
from starlette.types import ASGIApp, ExceptionHandler, Receive, Scope, Send
from starlette.websockets import WebSocket

SCOPE_HANDLERS = "starlette.exception_handlers"
SCOPE_FILE_STACK = "fastapi_middleware_astack"


class FileStack(AsyncExitStack):
    """An exit stack that knows whether anything was pushed on it.

    Every way of pushing (`callback`, `push_async_callback`, `enter_async_context`, ...) goes
    through `_push_exit_callback`; the tests push by each of them.
    """

    used = False

    def _push_exit_callback(self, callback: Any, is_sync: bool = True) -> None:
        self.used = True
        super()._push_exit_callback(callback, is_sync)  # type: ignore[misc]


async def _close_websocket(websocket: WebSocket, exc: Exception) -> None:
    code, reason = (exc.code, exc.reason) if isinstance(exc, WebSocketException) else (1011, None)
    await websocket.close(code=code, reason=reason)


def _is_async(handler: Any) -> bool:
    # As Starlette decides: coroutine functions, and objects whose __call__ is one.
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(handler.__call__)


class ExceptionHandlersMiddleware:
    def __init__(self, app: ASGIApp, handlers: Mapping[Any, ExceptionHandler]) -> None:
        self.app = app
        by_class: dict[Any, ExceptionHandler] = {WebSocketException: _close_websocket}
        by_status: dict[int, ExceptionHandler] = {}
        for key, handler in handlers.items():
            if isinstance(key, int):
                by_status[key] = handler
            else:
                by_class[key] = handler
        self.by_class = by_class
        self.by_status = by_status
        self.tables = (by_class, by_status)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        scope[SCOPE_HANDLERS] = self.tables
        stack = FileStack()
        scope[SCOPE_FILE_STACK] = stack
        try:
            try:
                await self.app(scope, receive, send)
            finally:
                if stack.used:
                    await stack.aclose()
        except Exception as exc:
            handler = self.handler_for(exc)
            if handler is None:
                raise
            # The route-level wrapper already handled what routes raise with these same tables;
            # what arrives here (404, 405, a mounted app's error) comes before any response.
            conn = (
                Request(scope, receive, send)
                if scope["type"] == "http"
                else WebSocket(scope, receive, send)
            )
            if _is_async(handler):
                response = await handler(conn, exc)
            else:
                response = await run_in_threadpool(handler, conn, exc)
            if response is not None:
                await response(scope, receive, send)
            # A reused exception instance would otherwise pile up tracebacks across requests.
            exc.__traceback__ = None

    def handler_for(self, exc: Exception) -> Any:
        if isinstance(exc, HTTPException):
            handler = self.by_status.get(exc.status_code)
            if handler is not None:
                return handler
        for cls in type(exc).__mro__:
            handler = self.by_class.get(cls)
            if handler is not None:
                return handler
        return None
