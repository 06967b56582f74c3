"""Where Prometheus reads the app's registry: `/metrics` on the API port, or a port of its own.

On the API port the route may require a bearer token (TELEMETRY_METRICS_TOKEN). With
TELEMETRY_METRICS_PORT the registry is served by prometheus_client's own HTTP server on that port
instead (a thread, started and stopped by the lifespan), and the API port has no /metrics: a
network policy or firewall can then keep scrapers and clients apart. Either way one process's
registry: each worker process answers for itself.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import choose_encoder, start_http_server
from prometheus_client.registry import Collector

from example_service.errors.exceptions import UnauthorizedError
from example_service.resilience.breaker import BreakerState
from example_service.resilience.registry import Breakers
from example_service.settings import TelemetrySettings

_bearer = HTTPBearer(auto_error=False)


def install_metrics_route(app: FastAPI, settings: TelemetrySettings) -> None:
    """Add /metrics to the API port, unless the registry gets a port of its own."""
    if settings.metrics_port is not None:
        return
    token = settings.metrics_token.get_secret_value().encode() if settings.metrics_token else None

    def authorize(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> None:
        if token is None:
            return
        if credentials is None or not hmac.compare_digest(credentials.credentials.encode(), token):
            raise UnauthorizedError("Metrics need the scrape token.")

    async def metrics(request: Request) -> Response:
        registry = request.app.state.telemetry.scrape_registry()
        # OpenMetrics when the scraper asks for it (Prometheus does): exemplars need it.
        encode, media_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encode(registry), media_type=media_type)

    app.add_api_route(
        "/metrics",
        metrics,
        include_in_schema=False,
        dependencies=[Depends(authorize)],
        tags=["observability"],
    )


def start_metrics_listener(
    registry: CollectorRegistry, settings: TelemetrySettings
) -> Callable[[], None] | None:
    """Serve `registry` on TELEMETRY_METRICS_PORT; returns what stops it (None: no port set)."""
    if settings.metrics_port is None:
        return None
    try:
        server, thread = start_http_server(
            settings.metrics_port, settings.metrics_host, registry=registry
        )
    except OSError as exc:
        raise OSError(
            f"TELEMETRY_METRICS_PORT={settings.metrics_port} on {settings.metrics_host}: {exc}"
        ) from exc

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return stop


_STATE_VALUE = {BreakerState.CLOSED: 0, BreakerState.HALF_OPEN: 1, BreakerState.OPEN: 2}


class BreakerCollector(Collector):
    """`circuit_breaker_state{breaker}` (0 closed, 1 half-open, 2 open) and
    `circuit_breaker_transitions_total{breaker,state}`, read at scrape time (nothing is counted
    on the request path but a transition)."""

    def __init__(self, breakers: Breakers) -> None:
        self.breakers = breakers

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        gauge = GaugeMetricFamily(
            "circuit_breaker_state",
            "Circuit breaker state per dependency: 0 closed, 1 half-open, 2 open",
            labels=["breaker"],
        )
        for breaker in self.breakers:
            gauge.add_metric([breaker.name], _STATE_VALUE[breaker.state])
        yield gauge
        transitions = CounterMetricFamily(
            "circuit_breaker_transitions",
            "Circuit breaker state changes, by the state entered",
            labels=["breaker", "state"],
        )
        for breaker in self.breakers:
            for state in BreakerState:
                count = self.breakers.transitions[breaker.name, state.value]
                transitions.add_metric([breaker.name, state.value], count)
        yield transitions


class PoolCollector(Collector):
    """`db_pool_size` and `db_pool_connections{state}` (in_use, idle) of the engine's pool, read
    at scrape time. A pool without these figures (SQLite's, for one) reports nothing."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool

    def collect(self) -> Iterator[GaugeMetricFamily]:
        pool = self.pool
        if not all(callable(getattr(pool, name, None)) for name in _POOL_FIGURES):
            return
        yield GaugeMetricFamily(
            "db_pool_size", "Connections the database pool keeps (DATABASE_POOL_SIZE)", pool.size()
        )
        connections = GaugeMetricFamily(
            "db_pool_connections", "Pooled database connections by state", labels=["state"]
        )
        connections.add_metric(["in_use"], pool.checkedout())
        connections.add_metric(["idle"], pool.checkedin())
        yield connections


_POOL_FIGURES = ("size", "checkedout", "checkedin")


_STATUS_VALUE = {"ok": 0, "degraded": 1, "unavailable": 2}


class ReadinessCollector(Collector):
    """`dependency_status{dependency,required}`: 0 ok, 1 degraded, 2 unavailable, as the last
    readiness check (`/api/v1/health/ready`, which orchestrators call every few seconds) found
    each dependency; nothing before the first check."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "dependency_status",
            "Dependency status at the last readiness check: 0 ok, 1 degraded, 2 unavailable",
            labels=["dependency", "required"],
        )
        reports = getattr(self.state, "last_readiness", None) or {}
        for name, report in reports.items():
            required = "true" if report.required else "false"
            gauge.add_metric([name, required], _STATUS_VALUE[report.status])
        yield gauge
