"""An app from create_app calling a real local upstream, with a test route in front of it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

import httpx
import pytest
import stamina
from asgi_lifespan import LifespanManager
from fastapi import Depends, FastAPI, Request, Response

from example_service.app import create_app
from example_service.outbound import ServiceClient, service
from example_service.resilience.breaker import CircuitBreaker
from example_service.settings import (
    OutboundSettings,
    RateLimitSettings,
    ResilienceSettings,
    TelemetrySettings,
)
from tests.conftest import SettingsFactory
from tests.outbound.upstream import Upstream

THRESHOLD = 3  # RESILIENCE_HTTP_FAILURE_THRESHOLD here
RECOVERY = 30.0  # RESILIENCE_HTTP_RECOVERY_SECONDS here: only the fake clock ever reaches it
READ_TIMEOUT = 0.5

Up = Annotated[ServiceClient, Depends(service("up"))]


def add_call_route(app: FastAPI) -> None:
    """`/call/<path>`: the same method on the `up` service, its answer passed on as it came."""

    @app.api_route("/call/{path:path}", methods=["GET", "POST"])
    async def call(path: str, request: Request, up: Up) -> Response:
        key = request.headers.get("idempotency-key")
        answer = await up.request(
            request.method,
            path,
            params=dict(request.query_params),
            headers={"Idempotency-Key": key} if key else None,
            json={"order": 1} if request.method == "POST" else None,
        )
        return Response(
            answer.content, answer.status_code, media_type=answer.headers.get("content-type")
        )


class Clock:
    """The breakers' clock: time moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Running:
    app: FastAPI
    client: httpx.AsyncClient  # to the app
    clock: Clock

    def up(self, name: str = "up") -> ServiceClient:
        client: ServiceClient = self.app.state.outbound[name]
        return client

    def breaker(self, name: str = "up") -> CircuitBreaker:
        return self.up(name).breaker


Run = Callable[..., AbstractAsyncContextManager[Running]]


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    server = Upstream()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def run(make_settings: SettingsFactory, upstream: Upstream) -> Run:
    """`async with run(services=..., **OUTBOUND_ settings) as running:`; default: `up`."""

    @asynccontextmanager
    async def running(
        services: dict[str, Any] | None = None,
        telemetry: TelemetrySettings | None = None,
        **section: Any,
    ) -> AsyncIterator[Running]:
        settings = make_settings(
            telemetry=telemetry or TelemetrySettings(),
            outbound=OutboundSettings(
                services=services if services is not None else {"up": upstream.url},
                **{"read_timeout_seconds": READ_TIMEOUT, **section},
            ),
            resilience=ResilienceSettings(
                http_failure_threshold=THRESHOLD,
                http_recovery_seconds=RECOVERY,
                retry_wait_initial_seconds=0,
                retry_wait_max_seconds=0,
            ),
            rate_limit=RateLimitSettings(enabled=False),
        )
        app = create_app(settings)
        add_call_route(app)
        clock = Clock()
        async with LifespanManager(app) as manager:
            for breaker in app.state.breakers:
                breaker.clock = clock
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                yield Running(app, client, clock)

    return running


@pytest.fixture
def retries() -> Iterator[None]:
    """Three attempts per idempotent call, without the waits."""
    with stamina.set_testing(True, attempts=3):
        yield
