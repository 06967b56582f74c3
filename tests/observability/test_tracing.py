"""Traces with TELEMETRY_OTEL=true and the SDK's in-memory exporter: the server span of a
request that touches PostgreSQL (and Redis) has their spans as children, its log lines carry its
trace id, and the latency histogram carries it as an exemplar."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from example_service.app import create_app
from example_service.db.migrate import alembic_config, upgrade
from example_service.settings import (
    DatabaseSettings,
    LogSettings,
    RateLimitSettings,
    RedisSettings,
    TelemetrySettings,
)
from tests.conftest import LogCapture, SettingsFactory
from tests.identity import PASSWORD, security_settings
from tests.servers import RedisServer

_EXPORTER = InMemorySpanExporter()


@pytest.fixture(scope="session")
def provider() -> TracerProvider:
    """The process's tracer provider (settable once: an app of another test may have made it),
    exporting into memory as well."""
    current = trace.get_tracer_provider()
    if not isinstance(current, TracerProvider):
        current = TracerProvider()
        trace.set_tracer_provider(current)
    current.add_span_processor(SimpleSpanProcessor(_EXPORTER))
    return current


@pytest.fixture
def spans(provider: TracerProvider) -> Iterator[InMemorySpanExporter]:
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()


@pytest.fixture
def migrated(postgres_url: str) -> str:
    upgrade(alembic_config(postgres_url))
    return postgres_url


@pytest.fixture
async def client(
    make_settings: SettingsFactory, migrated: str, request: pytest.FixtureRequest
) -> AsyncIterator[httpx.AsyncClient]:
    sections: dict[str, Any] = {}
    # part: redis
    redis_server: RedisServer = request.getfixturevalue("redis_server")
    sections["redis"] = RedisSettings(url=redis_server.url)
    # end part: redis
    settings = make_settings(
        **sections,
        database=DatabaseSettings(url=migrated),
        rate_limit=RateLimitSettings(enabled=False),
        log=LogSettings(slow_request_seconds=1e-9),  # a structlog line in every request
        telemetry=TelemetrySettings(mode="prometheus", metrics_public=True, otel=True),
        security=security_settings(),
    )
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            yield c


def descendants(spans: list[ReadableSpan], root: ReadableSpan) -> list[ReadableSpan]:
    """The spans under `root` (FastAPI puts its dependency and endpoint spans in between)."""
    assert root.context is not None
    found, parents = [], {root.context.span_id}
    for _ in range(len(spans)):
        for span in spans:
            if span.parent is not None and span.parent.span_id in parents and span not in found:
                found.append(span)
                assert span.context is not None
                parents.add(span.context.span_id)
    return found


async def test_a_request_is_one_trace_with_its_database_spans(
    client: httpx.AsyncClient, spans: InMemorySpanExporter, logs: LogCapture
) -> None:
    account = {"email": "traced@example.com", "password": PASSWORD}
    assert (await client.post("/api/v1/users", json=account)).status_code == 201
    token = (await client.post("/api/v1/auth/login", json=account)).json()["access_token"]
    spans.clear()
    logs.clear()
    me = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    finished = list(spans.get_finished_spans())
    [server] = [s for s in finished if s.kind is trace.SpanKind.SERVER]
    assert server.attributes is not None
    assert server.attributes["http.route"] == "/api/v1/users/me"
    assert server.attributes["http.response.status_code"] == 200
    inside = descendants(finished, server)
    sql = [s for s in inside if (s.attributes or {}).get("db.system") == "postgresql"]
    assert sql, "\n".join(f"{s.name} {dict(s.attributes or {})}" for s in finished)
    # part: redis
    redis = [s for s in inside if (s.attributes or {}).get("db.system.name") == "redis"]
    assert redis, "\n".join(f"{s.name} {dict(s.attributes or {})}" for s in finished)
    # end part: redis
    assert all("traced@" not in str(dict(s.attributes or {})) for s in sql)  # no parameters
    assert server.context is not None
    trace_id = format(server.context.trace_id, "032x")
    lines = [line for line in logs.lines() if line.get("request_id") == me.headers["x-request-id"]]
    assert {line["event"] for line in lines} == {"http.request", "http.slow_request"}
    assert all(line.get("trace_id") == trace_id for line in lines), lines

    scraped = await client.get(
        "/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"}
    )
    assert scraped.headers["content-type"].startswith("application/openmetrics-text")
    exemplars = [
        line
        for line in scraped.text.splitlines()
        if line.startswith("http_request_duration_seconds_bucket")
        and 'route="/api/v1/users/me"' in line
        and "# {" in line
    ]
    assert any(f'trace_id="{trace_id}"' in line for line in exemplars), exemplars


def test_without_otel_nothing_of_it_is_loaded(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from example_service.app import create_app\n"
        "from example_service.settings import Settings\n"
        "create_app(Settings())\n"
        "print(sorted(m for m in sys.modules if m.startswith(('opentelemetry.sdk',"
        " 'opentelemetry.instrumentation', 'example_service.observability.tracing'))))\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env={"PATH": os.environ.get("PATH", ""), "LOG_LEVEL": "ERROR"},
    )
    assert ran.stdout.strip() == "[]"
