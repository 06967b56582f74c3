from __future__ import annotations

import asyncio
import io
import logging
from typing import Any

import httpx
import orjson
import pytest
import structlog
from asgi_lifespan import LifespanManager

from example_service.app import create_app
from example_service.observability.access import AccessLogWriter
from example_service.observability.logging import (
    Sink,
    configure_logging,
    get_logger,
    mask_email,
)
from example_service.settings import DatabaseSettings, LogSettings
from tests.conftest import LogCapture, SettingsFactory
from tests.errors.conftest import add_failing_routes


async def test_one_access_line_per_request_with_route_template(
    client: httpx.AsyncClient, logs: LogCapture
) -> None:
    logs.clear()
    response = await client.get("/api/v1/health/live", headers={"x-request-id": "acc-1"})
    [line] = logs.events("http.request")
    assert line["method"] == "GET"
    assert line["route"] == "/api/v1/health/live"
    assert line["status"] == 200
    assert line["request_id"] == "acc-1"
    assert line["client"] == "203.0.113.7"
    assert line["level"] == "info"
    assert line["timestamp"].endswith("Z")
    assert float(response.headers["x-process-time"]) <= line["duration_ms"]


async def test_unmatched_paths_share_one_route_label(
    client: httpx.AsyncClient, logs: LogCapture
) -> None:
    logs.clear()
    await client.get("/random/a1")
    await client.get("/random/b2")
    assert {line["route"] for line in logs.events("http.request")} == {"<unmatched>"}


async def test_error_logging_policy(make_settings: SettingsFactory, logs: LogCapture) -> None:
    app = create_app(make_settings())
    add_failing_routes(app)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            logs.clear()
            await client.get("/app-error/not_found")
            await client.get("/boom/handler", headers={"x-request-id": "r500"})
    errors = logs.events("http.error")
    client_error = next(e for e in errors if e["status"] == 404)
    server_error = next(e for e in errors if e["status"] == 500)
    assert client_error["level"] == "info" and "exception" not in client_error
    assert server_error["level"] == "error"
    assert server_error["request_id"] == "r500"
    assert "RuntimeError: handler exploded" in server_error["exception"]
    assert "Traceback" in server_error["exception"]


def test_secrets_and_emails_are_redacted() -> None:
    stream = io.BytesIO()
    configure_logging(LogSettings(), stream)
    get_logger("t").info(
        "user.login",
        email="alice@example.com",
        password="hunter2",
        headers={"Authorization": "Bearer abc", "accept": "json"},
        api_key="k-123",
        refresh_token="r",
    )
    line = orjson.loads(stream.getvalue().splitlines()[-1])
    assert line["email"] == "a***@example.com"
    assert line["password"] == line["api_key"] == line["refresh_token"] == "***"
    assert line["headers"] == {"Authorization": "***", "accept": "json"}
    assert b"hunter2" not in stream.getvalue() and b"Bearer abc" not in stream.getvalue()


def test_mask_email_without_at() -> None:
    assert mask_email("not-an-email") == "***"


def test_stdlib_records_share_the_pipeline() -> None:
    stream = io.BytesIO()
    configure_logging(LogSettings(), stream)
    logging.getLogger("uvicorn.error").info("Started server process")
    logging.getLogger("sqlalchemy.engine.Engine").warning("SELECT 1 password=%s", "x")
    lines = [orjson.loads(x) for x in stream.getvalue().splitlines()]
    assert [line["logger"] for line in lines] == ["uvicorn.error", "sqlalchemy.engine.Engine"]
    assert all({"timestamp", "level", "event"} <= line.keys() for line in lines)


def test_uvicorn_access_logger_is_silenced() -> None:
    stream = io.BytesIO()
    configure_logging(LogSettings(), stream)
    access = logging.getLogger("uvicorn.access")
    assert not access.hasHandlers()  # uvicorn skips formatting its access line
    access.info("GET / 200")
    assert stream.getvalue() == b""


def test_level_filters_our_lines() -> None:
    stream = io.BytesIO()
    configure_logging(LogSettings(level="WARNING"), stream)
    get_logger("t").info("hidden")
    get_logger("t").warning("shown")
    assert [orjson.loads(x)["event"] for x in stream.getvalue().splitlines()] == ["shown"]


async def test_console_format(make_settings: SettingsFactory, logs: LogCapture) -> None:
    app = create_app(make_settings(log=LogSettings(format="console")))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await client.get("/health")
    text = logs.stream.getvalue().decode()
    assert "http.request" in text and "route=/health" in text
    assert not text.lstrip().startswith("{")


@pytest.fixture(autouse=True)
def _reset_structlog() -> None:
    structlog.reset_defaults()


async def test_database_echo_routes_sql_through_the_pipeline(
    make_settings: SettingsFactory, logs: LogCapture, tmp_path: object
) -> None:
    settings = make_settings(
        database=DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path}/echo.db", echo=True)
    )
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await client.get("/api/v1/health/ready")
    sql = [line for line in logs.lines() if str(line.get("logger", "")).startswith("sqlalchemy")]
    assert any("SELECT 1" in line["event"] for line in sql)


def test_access_line_escapes_every_value() -> None:
    stream = io.BytesIO()
    writer = AccessLogWriter(configure_logging(LogSettings(), stream))
    writer.write('GE"T', '/a/"{x}"\\', 201, 1.23456, None, request_id='r"id')
    line = orjson.loads(stream.getvalue())
    assert line["method"] == 'GE"T'
    assert line["route"] == '/a/"{x}"\\'
    assert line["duration_ms"] == 1.235
    assert line["client"] is None
    assert line["request_id"] == 'r"id'
    assert line["status"] == 201


class _CountingStream(io.BytesIO):
    """Counts writes: on an unbuffered stream (PYTHONUNBUFFERED=1) each one is a write(2)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, data: Any) -> int:
        self.writes += 1
        return super().write(data)


async def test_request_lines_are_written_once_per_loop_turn() -> None:
    stream = _CountingStream()
    sink = Sink(stream)
    for n in range(5):
        sink.line_soon(b"%d\n" % n)
    assert stream.writes == 0
    await asyncio.sleep(0)
    # The five lines of one turn leave in one write.
    assert stream.writes == 1
    assert stream.getvalue() == b"0\n1\n2\n3\n4\n"
    sink.line_soon(b"5\n")
    sink.msg("other")  # an ordinary line is written at once, the pending one before it
    assert stream.getvalue().endswith(b"5\nother\n")
    await asyncio.sleep(0)
    assert stream.getvalue().endswith(b"5\nother\n")  # and not a second time


def test_request_lines_outside_an_event_loop_are_written_at_once() -> None:
    stream = _CountingStream()
    Sink(stream).line_soon(b"x\n")
    assert stream.getvalue() == b"x\n"
