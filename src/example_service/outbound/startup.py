"""Built in the lifespan, only when OUTBOUND_SERVICES names a service: one `httpx.AsyncClient`
for the process (one connection pool), and per service its client, breaker and readiness entry."""

from __future__ import annotations

from contextlib import AsyncExitStack

import httpx
from fastapi import FastAPI

from example_service.health.probes import Dependency
from example_service.outbound.client import ServiceClient
from example_service.outbound.metrics import OutboundMetrics
from example_service.resilience.registry import Breakers
from example_service.resilience.retry import RetryPolicy
from example_service.settings import OutboundService, OutboundSettings, ResilienceSettings, Settings


def retry_policy(settings: ResilienceSettings) -> RetryPolicy:
    return RetryPolicy(
        attempts=settings.retry_attempts,
        timeout=settings.retry_timeout_seconds,
        wait_initial=settings.retry_wait_initial_seconds,
        wait_max=settings.retry_wait_max_seconds,
    )


def _timeout(section: OutboundSettings, service: OutboundService) -> httpx.Timeout:
    def pick(override: float | None, default: float) -> float:
        return override if override is not None else default

    return httpx.Timeout(
        connect=pick(service.connect_timeout_seconds, section.connect_timeout_seconds),
        read=pick(service.read_timeout_seconds, section.read_timeout_seconds),
        write=pick(service.write_timeout_seconds, section.write_timeout_seconds),
        pool=pick(service.pool_timeout_seconds, section.pool_timeout_seconds),
    )


async def _breaker_only() -> None:
    """Readiness of a service without a health path: its breaker says it all."""


def _metrics(app: FastAPI) -> OutboundMetrics | None:
    """The outbound counters with TELEMETRY_MODE=prometheus, created once per app (a registry
    refuses a second family of one name; tests run a lifespan more than once)."""
    registry = getattr(app.state.telemetry, "registry", None)
    if registry is None:
        return None
    metrics: OutboundMetrics | None = getattr(app.state, "outbound_metrics", None)
    if metrics is None:
        metrics = app.state.outbound_metrics = OutboundMetrics(registry)
    return metrics


def start_outbound(app: FastAPI, settings: Settings, stack: AsyncExitStack) -> None:
    """`app.state.outbound`: name -> `ServiceClient`; the client closes with the lifespan."""
    section = settings.outbound
    http = httpx.AsyncClient(
        limits=httpx.Limits(
            max_connections=section.max_connections,
            # All of them kept alive: under load, closing idle ones means reconnecting at once.
            max_keepalive_connections=section.max_connections,
            keepalive_expiry=section.keepalive_seconds,
        ),
        headers={"User-Agent": f"{settings.app.name}/{settings.app.version}"},
    )
    stack.push_async_callback(http.aclose)
    if settings.telemetry.otel:
        from example_service.observability.tracing import instrument_http  # noqa: PLC0415

        instrument_http(http)
    policy = retry_policy(settings.resilience)
    breakers: Breakers = app.state.breakers
    metrics = _metrics(app)
    clients: dict[str, ServiceClient] = {}
    for name, service in section.services.items():
        key = f"http:{name}"
        # One app may run its lifespan more than once (tests do): its breakers stay.
        breaker = breakers.get(key) or breakers.create(key, settings.resilience)
        client = ServiceClient(
            name,
            service.url,
            http,
            timeout=_timeout(section, service),
            attempt_timeout=service.attempt_timeout_seconds or section.attempt_timeout_seconds,
            breaker=breaker,
            policy=policy,
            health_path=service.health_path,
            metrics=metrics,
        )
        clients[name] = client
        check = client.ping if service.health_path else _breaker_only
        app.state.dependencies.append(
            Dependency(key, check, required=service.required, breaker=breaker)
        )
    app.state.outbound = clients
