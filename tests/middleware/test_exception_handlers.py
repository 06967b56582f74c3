"""The innermost layer: handler tables for routes, errors outside routes, the file stack."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI, File, Request, UploadFile
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException, WebSocketException
from starlette.routing import Mount
from starlette.types import Message, Receive, Scope, Send

from example_service.app import create_app
from example_service.middleware.exception_handlers import (
    SCOPE_FILE_STACK,
    ExceptionHandlersMiddleware,
    FileStack,
)
from example_service.settings import Settings


class TeapotError(Exception):
    pass


class SubTeapotError(TeapotError):
    pass


async def raising_app(scope: Scope, receive: Receive, send: Send) -> None:
    """A mounted ASGI app: what it raises is not seen by any route-level handler."""
    path = scope["path"]
    if path.endswith("/http"):
        raise HTTPException(status_code=404, detail="no such asset")
    if path.endswith("/status"):
        raise HTTPException(status_code=409)
    if path.endswith("/sub"):
        raise SubTeapotError
    if path.endswith("/sync"):
        raise LookupError("sync handled")
    raise RuntimeError("not handled anywhere")


def sync_handler(request: Request, exc: Exception) -> JSONResponse:
    # Run in the thread pool, as Starlette runs sync handlers, never on the event loop.
    on_loop = threading.current_thread() is threading.main_thread()
    return JSONResponse({"sync": str(exc), "on_loop": on_loop}, status_code=400)


async def teapot_handler(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"class": type(exc).__name__}, status_code=418)


async def conflict_handler(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"by": "status"}, status_code=409)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    application = create_app(settings)
    application.add_exception_handler(TeapotError, teapot_handler)
    application.add_exception_handler(LookupError, sync_handler)
    application.add_exception_handler(409, conflict_handler)
    application.router.routes.append(Mount("/mounted", app=raising_app))
    closed: list[str] = []
    application.state.closed = closed

    @application.post("/upload")
    async def upload(file: Annotated[UploadFile, File()], request: Request) -> dict[str, Any]:
        stack = request.scope[SCOPE_FILE_STACK]
        stack.callback(closed.append, "by-route")
        return {"name": file.filename, "closed_yet": file.file.closed}

    @application.get("/teapot")
    async def teapot() -> None:
        raise SubTeapotError

    return application


async def test_route_errors_use_the_tables_in_the_scope(client: httpx.AsyncClient) -> None:
    response = await client.get("/teapot")
    assert response.status_code == 418
    assert response.json() == {"class": "SubTeapotError"}  # found along the MRO


async def test_http_exception_outside_routes_is_a_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/mounted/http")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "no such asset"
    assert response.headers["x-content-type-options"] == "nosniff"  # still passes the edge


async def test_status_handler_wins_over_class_handler(client: httpx.AsyncClient) -> None:
    response = await client.get("/mounted/status")
    assert response.status_code == 409
    assert response.json() == {"by": "status"}


async def test_class_handler_and_sync_handler(client: httpx.AsyncClient) -> None:
    response = await client.get("/mounted/sub")
    assert (response.status_code, response.json()) == (418, {"class": "SubTeapotError"})
    response = await client.get("/mounted/sync")
    assert (response.status_code, response.json()) == (
        400,
        {"sync": "sync handled", "on_loop": False},
    )


async def test_unhandled_error_reaches_the_edge(client: httpx.AsyncClient) -> None:
    response = await client.get("/mounted/other")
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    assert "not handled" not in response.text


async def test_uploaded_files_are_closed_after_the_response(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    response = await client.post("/upload", files={"file": ("a.txt", b"hello", "text/plain")})
    assert response.status_code == 200
    assert response.json() == {"name": "a.txt", "closed_yet": False}
    assert app.state.closed == ["by-route"]  # the stack was closed once the request ended


async def test_file_stack_knows_when_it_was_used() -> None:
    @asynccontextmanager
    async def resource() -> AsyncIterator[None]:
        yield

    async def noop() -> None:
        return None

    pushes: dict[str, Callable[[FileStack], object]] = {
        "callback": lambda s: s.callback(print),
        "push": lambda s: s.push(lambda *exc: None),
        "push_async_callback": lambda s: s.push_async_callback(noop),
        "push_async_exit": lambda s: s.push_async_exit(lambda *exc: noop()),
    }
    assert FileStack().used is False
    for name, push in pushes.items():
        stack = FileStack()
        push(stack)
        assert stack.used, name

    stack = FileStack()
    await stack.enter_async_context(resource())
    assert stack.used
    await stack.aclose()


async def _run_layer(layer: ExceptionHandlersMiddleware, scope: Scope) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "websocket.connect"}

    async def send(message: Message) -> None:
        sent.append(message)

    await layer(scope, receive, send)
    return sent


async def test_websocket_exception_outside_routes_closes_the_socket() -> None:
    async def socket_app(scope: Scope, receive: Receive, send: Send) -> None:
        raise WebSocketException(code=4001, reason="go away")

    layer = ExceptionHandlersMiddleware(socket_app, {})
    sent = await _run_layer(layer, {"type": "websocket", "path": "/ws", "headers": []})
    assert sent == [{"type": "websocket.close", "code": 4001, "reason": "go away"}]


async def test_stack_closes_when_the_app_raises() -> None:
    closed: list[str] = []

    async def failing(scope: Scope, receive: Receive, send: Send) -> None:
        scope[SCOPE_FILE_STACK].callback(closed.append, "file")
        raise RuntimeError("boom")

    layer = ExceptionHandlersMiddleware(failing, {})
    with pytest.raises(RuntimeError):
        await _run_layer(layer, {"type": "http", "path": "/x", "headers": []})
    assert closed == ["file"]


async def test_lifespan_passes_through(settings: Settings) -> None:
    application = create_app(settings)
    async with LifespanManager(application):
        assert application.state.started is True
