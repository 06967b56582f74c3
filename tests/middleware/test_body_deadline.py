"""The input guard's deadline for each next part of a request body (SERVER_BODY_TIMEOUT_SECONDS).

A real server closing the connection after the 408 is tested in tests/serving/.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from example_service.app import create_app
from example_service.errors import RequestTimeoutError
from example_service.errors.problem import ProblemRenderer
from example_service.middleware.input_guard import InputGuard
from example_service.settings import SecuritySettings, ServerSettings
from tests.conftest import SettingsFactory

DEADLINE = 0.3
JSON = {"content-type": "application/json"}
SCOPE = {
    "type": "http",
    "method": "POST",
    "path": "/raw",
    "query_string": b"",
    "headers": [(b"content-type", b"application/json"), (b"content-length", b"2")],
}


@pytest.fixture
async def client(make_settings: SettingsFactory) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(server=ServerSettings(body_timeout_seconds=DEADLINE)))

    @app.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        return {"received": len(await request.body())}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        yield c


async def test_a_stalled_body_is_408_and_closes_the_connection(
    client: httpx.AsyncClient,
) -> None:
    async def stalls() -> AsyncIterator[bytes]:
        yield b'"the start'
        await asyncio.Event().wait()  # and nothing more, ever
        yield b'"'  # pragma: no cover

    async with asyncio.timeout(5):  # without the deadline: a failure, not a hung suite
        response = await client.post("/raw", content=stalls(), headers=JSON)
    assert response.status_code == 408
    assert response.headers["connection"] == "close"
    body = response.json()
    assert body["code"] == "request_timeout"
    assert body["request_id"] == response.headers["x-request-id"]


async def test_the_deadline_is_per_part_not_for_the_whole_body(
    client: httpx.AsyncClient,
) -> None:
    parts = 8  # together they take longer than one deadline

    async def slow_but_steady() -> AsyncIterator[bytes]:
        for _ in range(parts):
            await asyncio.sleep(DEADLINE / 6)
            yield b" "

    response = await client.post("/raw", content=slow_but_steady(), headers=JSON)
    assert response.json() == {"received": parts}


def guarded(app: ASGIApp) -> InputGuard:
    return InputGuard(
        app, security=SecuritySettings(), renderer=ProblemRenderer(), body_timeout=DEADLINE
    )


async def test_waiting_for_a_disconnect_after_the_body_has_no_deadline() -> None:
    # A streaming response listens for the client leaving for as long as it streams.
    messages = [
        {"type": "http.request", "body": b"{}", "more_body": False},
        {"type": "http.disconnect"},
    ]

    async def receive() -> Message:
        if len(messages) == 1:
            await asyncio.sleep(DEADLINE * 2)
        return messages.pop(0)

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert (await receive())["body"] == b"{}"
        await send({"type": "http.response.start", "status": 200, "headers": []})
        assert (await receive())["type"] == "http.disconnect"
        await send({"type": "http.response.body", "body": b""})

    await guarded(app)(SCOPE, receive, send)
    assert [m.get("status") for m in sent] == [200, None]


async def test_a_stall_after_the_response_started_cuts_the_connection() -> None:
    async def receive() -> Message:
        await asyncio.Event().wait()
        raise AssertionError("not reached")

    async def send(message: Message) -> None:
        pass

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await receive()

    # Raised to the server, which can then only close the connection.
    with pytest.raises(RequestTimeoutError):
        async with asyncio.timeout(5):
            await guarded(app)(SCOPE, receive, send)


async def test_an_answer_before_the_body_is_read_closes_the_connection(
    client: httpx.AsyncClient,
) -> None:
    # Left open, the server would go on reading the unread rest, with no deadline.
    unread = await client.post("/nowhere", content=b"{}", headers=JSON)
    assert unread.status_code == 404
    assert unread.headers["connection"] == "close"
    read = await client.post("/raw", content=b"{}", headers=JSON)
    assert read.status_code == 200
    assert "connection" not in read.headers
