"""The app factory: `create_app(settings)` builds the app; the lifespan builds its resources.

Served with `uvicorn example_service.app:create_app --factory`. Nothing is created at import time.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from fastapi.telemetry import TelemetryConfig
from starlette.types import ASGIApp

from example_service.api_keys import router as api_keys
from example_service.auth import router as auth
from example_service.auth.cache import build_identity_cache
from example_service.auth.openapi import declare_security
from example_service.auth.passwords import Passwords
from example_service.auth.tokens import Tokens
from example_service.cache import build_cache
from example_service.cache.metrics import CacheMetrics
from example_service.db.engine import (
    create_engine,
    create_read_session_factory,
    create_session_factory,
)
from example_service.db.schema import check_schema
from example_service.db.session import needs_database
from example_service.db.slow import watch_slow_queries
from example_service.docs.pages import docs_policies, install_docs
from example_service.errors.handlers import register_exception_handlers
from example_service.errors.openapi import install_openapi
from example_service.errors.problem import ProblemRenderer, problem_responses
from example_service.health import router as health
from example_service.health.probes import Dependency, database_check
from example_service.health.schemas import OkStatus
from example_service.meta import router as meta
from example_service.middleware.access_log import AccessLog
from example_service.middleware.cors import ProblemCORSMiddleware
from example_service.middleware.edge import EdgeMiddleware
from example_service.middleware.exception_handlers import ExceptionHandlersMiddleware
from example_service.middleware.input_guard import InputGuard
from example_service.middleware.proxy_headers import ProxyHeadersMiddleware
from example_service.middleware.security_headers import SecurityHeaders
from example_service.middleware.trusted_host import TrustedHostMiddleware
from example_service.observability.access import AccessLogWriter, StructlogAccessLog
from example_service.observability.logging import Sink, configure_logging, get_logger
from example_service.observability.telemetry import PrometheusTelemetry, Telemetry, build_telemetry
from example_service.ratelimit.limiter import RateLimiter
from example_service.ratelimit.middleware import RateLimitMiddleware
from example_service.resilience.registry import Breakers
from example_service.routing import include_flat
from example_service.security import install_edge_protection, start_edge_protection
from example_service.settings import Settings
from example_service.state import AppState
from example_service.tasks import router as tasks
from example_service.tasks import start_tasks
from example_service.tasks.metrics import TaskMetrics
from example_service.users import router as users

OPENAPI_URL = "/openapi.json"
# FastAPI's native OpenTelemetry, all off (TELEMETRY_OTEL=false): ours is TELEMETRY_MODE.
OTEL_OFF: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
}


class ServiceApp(FastAPI):
    """FastAPI whose middleware stack is ours at both ends.

    Outside: Starlette puts ServerErrorMiddleware outside all user middleware, so a 500 it
    renders never passes back through them and loses their headers. Ours wraps the stack from
    outside instead: the edge (request id, timing, access log, error boundary). FastAPI's
    exception recorder for its native OpenTelemetry stays only with TELEMETRY_OTEL on; its
    app-wide body limit (`max_body_size`) is refused: the input guard limits bodies, per path.
    Inside: one `ExceptionHandlersMiddleware` instead of Starlette's ExceptionMiddleware and
    FastAPI's AsyncExitStackMiddleware (see there). Each layer left out is a coroutine frame
    on every request.

    FastAPI exports no name for its exception recorder: it is imported from
    `fastapi.telemetry._asgi`, only when TELEMETRY_OTEL is on. pyproject.toml pins FastAPI to
    the versions that have it, and tests/test_fastapi_internals.py fails loudly if it moves.
    """

    outer: Callable[[ASGIApp], ASGIApp] | None = None
    otel = False  # FastAPI's native OpenTelemetry on: keep its exception recorder

    def build_middleware_stack(self) -> ASGIApp:
        # Handlers for 500 and Exception belong to the edge's boundary, as they belong to
        # ServerErrorMiddleware in Starlette.
        handlers = {
            key: handler
            for key, handler in self.exception_handlers.items()
            if key not in (500, Exception)
        }
        app: ASGIApp = ExceptionHandlersMiddleware(self.router, handlers)
        for cls, args, kwargs in reversed(self.user_middleware):
            app = cls(app, *args, **kwargs)
        if getattr(self, "max_body_size", None) is not None:  # FastAPI >= 0.164
            raise ValueError(
                "max_body_size is not supported: set SECURITY_MAX_REQUEST_SIZE or "
                "SECURITY_BODY_LIMITS (the input guard enforces them per path)"
            )
        if self.otel:
            from fastapi.telemetry._asgi import ExceptionTelemetryMiddleware  # noqa: PLC0415

            app = ExceptionTelemetryMiddleware(app)
        return self.outer(app) if self.outer is not None else app


def _outer_layers(
    renderer: ProblemRenderer,
    telemetry: Telemetry,
    access_log: AccessLog | None,
    security: SecurityHeaders,
    settings: Settings,
) -> Callable[[ASGIApp], ASGIApp]:
    def wrap(app: ASGIApp) -> ASGIApp:
        return EdgeMiddleware(
            app,
            renderer=renderer,
            telemetry=telemetry,
            access_log=access_log,
            security=security,
            debug=settings.app.debug,
            slow_request_seconds=settings.log.slow_request_seconds,
        )

    return wrap


def _lifespan(settings: Settings) -> Callable[[FastAPI], Any]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        logger = get_logger("example_service.app")
        telemetry = app.state.telemetry
        async with AsyncExitStack() as stack:
            engine = create_engine(settings.database)
            stack.push_async_callback(engine.dispose)
            app.state.engine = engine
            watch_slow_queries(engine, settings.database.slow_query_seconds, telemetry)
            if settings.telemetry.otel:
                from example_service.observability import tracing  # noqa: PLC0415

                tracing.instrument_engine(engine)
            app.state.session_factory = create_session_factory(engine)
            app.state.read_session_factory = create_read_session_factory(engine, settings.database)
            app.state.dependencies = [
                Dependency(
                    "db", database_check(engine), required=True, breaker=app.state.db_breaker
                ),
                *await check_schema(settings, engine),  # may refuse to start: db/schema.py
            ]
            await app.state.passwords.warm()
            app.state.cache = build_cache(settings.cache, app.state.cache_metrics)
            # part: redis
            await _start_redis(app, settings, stack)  # may swap in the shared cache
            # end part: redis
            if app.state.cache is not None:
                stack.push_async_callback(app.state.cache.backend.aclose)
                await app.state.cache.start()
            app.state.identity_cache = build_identity_cache(app.state.cache)
            if app.state.identity_cache is not None:
                stack.push_async_callback(app.state.identity_cache.aclose)
            # part: tasks
            await start_tasks(app, settings, stack, app.state.task_metrics)
            # end part: tasks
            if settings.outbound.services:  # else neither outbound/ nor httpx is imported
                from example_service.outbound import start_outbound  # noqa: PLC0415

                start_outbound(app, settings, stack)
            await start_edge_protection(app, settings, stack)
            if isinstance(telemetry, PrometheusTelemetry):
                from example_service.observability import metrics  # noqa: PLC0415
                from example_service.observability.loop_lag import LoopLag  # noqa: PLC0415

                pool = metrics.PoolCollector(engine.sync_engine.pool)
                lag = LoopLag()
                for collector in (pool, lag):
                    telemetry.add_live(collector)
                    stack.callback(telemetry.remove_live, collector)
                lag.start()
                stack.push_async_callback(lag.stop)
                stop = metrics.start_metrics_listener(telemetry.registry, settings.telemetry)
                if stop is not None:
                    stack.callback(stop)
            app.state.started = True
            # Startup built a large, long-lived heap (SQLAlchemy, pydantic models...); moving it
            # out of the collector's generations keeps per-request GC passes short (+7%, measured).
            gc.collect()
            gc.freeze()
            logger.info(
                "app.startup",
                environment=settings.app.environment.value,
                version=settings.app.version,
            )
            try:
                yield
            finally:
                app.state.started = False
                logger.info("app.shutdown")

    return lifespan


# part: redis
async def _start_redis(app: FastAPI, settings: Settings, stack: AsyncExitStack) -> None:
    """One Redis client per process when REDIS_URL is set; Redis-backed features switch to it:
    the cache (replaced before it starts), rate limits, then bans and alerts (security/)."""
    app.state.redis = None
    if settings.redis.url is None:  # redis (the library) is then never imported
        return
    from example_service.cache.shared import build_shared_cache  # noqa: PLC0415
    from example_service.redis.client import create_redis  # noqa: PLC0415 - only with REDIS_URL

    breaker = app.state.breakers.get("redis")
    redis = create_redis(settings.redis, breaker)
    app.state.redis = redis
    if redis is None:
        return
    stack.push_async_callback(redis.aclose)
    if settings.telemetry.otel:
        from example_service.observability.tracing import RedisSpans  # noqa: PLC0415

        redis.pipeline.tracer = RedisSpans()
    # Optional: rate limiting (and caching) fail open without it.
    app.state.dependencies.append(Dependency("redis", redis.ping, required=False, breaker=breaker))
    app.state.cache = build_shared_cache(settings.cache, redis, app.state.cache_metrics)
    limiter: RateLimiter = app.state.limiter
    limiter.use_redis(redis, app.state.ratelimit_fallback_counter)
    stack.callback(limiter.use_memory)


# end part: redis
def _registry(telemetry: Telemetry) -> Any | None:
    return telemetry.registry if isinstance(telemetry, PrometheusTelemetry) else None


def _attach_metrics(app: FastAPI, telemetry: Telemetry) -> None:
    """The counters of the capabilities on `app.state`: they live as long as the app (its
    registry), their backends as long as the lifespan."""
    registry = _registry(telemetry)
    app.state.ratelimit_fallback_counter = _fallback_counter(telemetry)
    app.state.cache_metrics = CacheMetrics(registry)
    app.state.auth_metrics = _auth_metrics(telemetry)
    # part: tasks
    app.state.task_metrics = TaskMetrics(registry)
    # end part: tasks


def _auth_metrics(telemetry: Telemetry) -> Any:
    if not isinstance(telemetry, PrometheusTelemetry):
        return None
    from example_service.auth.metrics import AuthMetrics  # noqa: PLC0415

    return AuthMetrics(telemetry.registry)


def _fallback_counter(telemetry: Telemetry) -> Any:
    if not isinstance(telemetry, PrometheusTelemetry):
        return None
    from prometheus_client import Counter  # noqa: PLC0415

    return Counter(
        "ratelimit_fallbacks_total",
        "Rate-limit decisions made in-process because Redis was unavailable",
        registry=telemetry.registry,
    )


def _api_routers() -> list[APIRouter]:
    """Domain routers, each included once at the app under the API prefix.

    Matching is a linear scan, and with FastAPI 0.165 each route tried costs about 9k
    instructions (callgrind), ~2 % of a request: every route placed before the domain routes
    taxes all API traffic. So after `/health` (added first, see create_app) come the one-route
    public `meta` and the probes, then the domain routers.
    """
    return [
        meta.router,
        health.router,
        users.router,
        auth.router,
        # part: tasks
        tasks.router,
        # end part: tasks
        api_keys.router,
    ]


def _legacy_login_router() -> APIRouter:
    router = APIRouter()
    for route in auth.router.routes:
        if getattr(route, "path", "") == "/auth/login":
            router.routes.append(route)
    return router


# Response headers a browser script on an allowed origin may read.
CORS_EXPOSED_HEADERS = [
    "X-Request-ID",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "RateLimit",
    "RateLimit-Policy",
    "Retry-After",
]


def _install_protection(
    app: FastAPI, settings: Settings, renderer: ProblemRenderer, registry: Any | None
) -> None:
    """Inner middleware, innermost first (each `add_middleware` wraps the ones before it).

    Request order, outermost first: edge -> proxy headers -> request logging (LOG_REQUESTS) ->
    trusted host -> CORS -> abuse (bans, deny list) -> geo blocking -> input guard -> rate limit
    -> routing. The proxy layer must stay outside the rate limiter and the edge protection,
    which key on `scope["client"]`: add the limiter with `app.add_middleware` before this
    function runs (it then sits inside every layer here), never after it. Layers whose
    settings are at their defaults (no CORS origins, any host, no trusted proxy, no request
    logging, no protection) are not installed and cost nothing.
    """
    app.add_middleware(
        InputGuard,
        security=settings.security,
        renderer=renderer,
        body_timeout=settings.server.body_timeout_seconds,
    )
    install_edge_protection(app, settings, renderer, registry)
    origins = settings.app.cors_allow_origins
    if origins:
        app.add_middleware(
            ProblemCORSMiddleware,
            renderer=renderer,
            allow_origins=origins,
            # A wildcard origin with credentials would let any site act as the user.
            allow_credentials=settings.app.cors_allow_credentials and "*" not in origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID", "X-API-Key"],
            expose_headers=CORS_EXPOSED_HEADERS,
            max_age=600,
        )
    if "*" not in settings.app.allowed_hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.app.allowed_hosts)
    if settings.log.requests:  # outside the layers that refuse: their answers are logged too
        from example_service.middleware.request_logging import RequestLogging  # noqa: PLC0415
        from example_service.observability.pii import PIIMasker  # noqa: PLC0415

        app.add_middleware(
            RequestLogging,
            masker=PIIMasker(settings.log.mask_fields, settings.log.mask_patterns),
            max_body_bytes=settings.log.request_body_max_bytes,
            exempt=settings.log.request_exempt_paths,
        )
    if settings.security.trusted_proxies:
        app.add_middleware(
            ProxyHeadersMiddleware, trusted_proxies=settings.security.trusted_proxies
        )


def _trace_ids(settings: Settings) -> Callable[[], tuple[str, str] | None] | None:
    if not settings.telemetry.otel:
        return None
    from example_service.observability.tracing import current_ids  # noqa: PLC0415

    return current_ids


def _start_logging_and_tracing(settings: Settings) -> Sink:
    sink = configure_logging(settings.log, trace_ids=settings.telemetry.otel)
    if settings.telemetry.otel:
        from example_service.observability import tracing  # noqa: PLC0415 - the otel extra

        tracing.ensure_provider(settings)
    return sink


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.load()
    settings.check()
    sink = _start_logging_and_tracing(settings)
    for notice in settings.notices:
        get_logger("example_service.settings").warning("settings.notice", detail=notice)

    renderer = ProblemRenderer(settings.app.error_format, settings.app.error_type_base)
    telemetry = build_telemetry(settings.telemetry, get_logger("example_service.telemetry"))
    docs = settings.app.docs_on
    app = ServiceApp(
        title=settings.app.name,
        version=settings.app.version,
        # Starlette's debug pages are never used: the edge renders every 500 (APP_DEBUG adds
        # the exception to its body).
        debug=False,
        lifespan=_lifespan(settings),
        # FastAPI's own docs pages load their assets from a CDN and run inline script: ours
        # (docs/pages.py) are served from this origin under a strict CSP.
        docs_url=None,
        redoc_url=None,
        openapi_url=OPENAPI_URL if docs else None,
        telemetry=None if settings.telemetry.otel else OTEL_OFF,
    )
    app.otel = settings.telemetry.otel
    app.state = AppState()  # read per request: see state.py
    app.state.settings = settings
    app.state.telemetry = telemetry
    app.state.renderer = renderer
    app.state.dependencies = []
    breakers = Breakers()
    app.state.breakers = breakers
    app.state.db_breaker = breakers.create("db", settings.resilience)
    # part: redis
    if settings.redis.url is not None:
        breakers.create("redis", settings.resilience)
    # end part: redis
    app.state.passwords = Passwords(settings.security)
    app.state.tokens = Tokens(settings.security)
    limiter = RateLimiter(settings.rate_limit, settings.security)
    app.state.limiter = limiter
    _attach_metrics(app, telemetry)

    register_exception_handlers(app, renderer)
    # The seed's probe first: routing tries routes in order, and behind every API route it paid
    # for all of them (+11 % CPU). Added directly rather than as an included router.
    app.add_api_route("/health", health.health, response_model=OkStatus, tags=["health"])
    for router in _api_routers():
        # The global rate limit can answer 429 on every API route except the exempt probes.
        limited = settings.rate_limit.enabled and router is not health.router
        statuses = (429, 500) if limited else (500,)
        include_flat(
            app, router, prefix=settings.app.api_prefix, responses=problem_responses(*statuses)
        )
    # Login also answers outside the API prefix, where earlier clients of this service call it.
    include_flat(
        app,
        _legacy_login_router(),
        responses=problem_responses(500),
        deprecated=True,  # documented as such: new clients use the API prefix
    )
    if isinstance(telemetry, PrometheusTelemetry):
        from example_service.observability import metrics  # noqa: PLC0415 - this mode only

        metrics.install_metrics_route(app, settings.telemetry)
        telemetry.add_live(metrics.BreakerCollector(breakers))
        telemetry.add_live(metrics.ReadinessCollector(app.state))
    for route in app.routes:
        if isinstance(route, APIRoute) and needs_database(route.dependant):
            # While the database is down (or its breaker open) such a route answers 503.
            route.responses.setdefault(503, problem_responses(503)[503])
    install_openapi(app, settings.app.error_format, declare_security)
    if docs:
        install_docs(app, OPENAPI_URL)
    if settings.rate_limit.enabled:
        # Before the protection layers: the limiter must sit inside the proxy-headers layer.
        app.add_middleware(
            RateLimitMiddleware,
            limiter=limiter,
            api_prefix=settings.app.api_prefix,
            renderer=renderer,
        )
    _install_protection(app, settings, renderer, _registry(telemetry))

    access_log: AccessLog | None = None
    if settings.log.access_log and settings.log.level in ("DEBUG", "INFO"):
        access_log = (
            AccessLogWriter(sink, _trace_ids(settings))
            if settings.log.format == "json"
            else StructlogAccessLog(get_logger("example_service.access"))
        )
    security = SecurityHeaders(settings.security, docs_policies() if docs else None)
    app.outer = _outer_layers(renderer, telemetry, access_log, security, settings)
    return app
