"""The app factory: `create_app(settings)` builds the app; the lifespan builds its resources.

Served with `uvicorn example_service.app:create_app --factory`. Nothing is created at import time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.types import ASGIApp

from example_service.db.engine import create_engine, create_session_factory
from example_service.errors.boundary import ErrorBoundaryMiddleware
from example_service.errors.handlers import register_exception_handlers
from example_service.errors.openapi import install_openapi
from example_service.errors.problem import ProblemRenderer, problem_responses
from example_service.health import router as health
from example_service.health.probes import database_check
from example_service.meta import router as meta
from example_service.middleware.access_log import AccessLogMiddleware
from example_service.middleware.request_id import RequestIdMiddleware
from example_service.observability import metrics
from example_service.observability.logging import configure_logging, get_logger
from example_service.observability.telemetry import Telemetry, build_telemetry
from example_service.settings import Settings


class ServiceApp(FastAPI):
    """FastAPI whose outermost layers are ours.

    Starlette puts ServerErrorMiddleware outside all user middleware, so a 500 it renders never
    passes back through them and loses their headers. We drop it and wrap the stack from outside:
    request id -> access log -> error boundary -> (FastAPI's own stack and user middleware).
    """

    outer: Callable[[ASGIApp], ASGIApp] | None = None

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        if isinstance(stack, ServerErrorMiddleware):
            stack = stack.app
        return self.outer(stack) if self.outer is not None else stack


def _outer_layers(renderer: ProblemRenderer, telemetry: Telemetry, access_logger: Any) -> Callable[[ASGIApp], ASGIApp]:
    def wrap(app: ASGIApp) -> ASGIApp:
        app = ErrorBoundaryMiddleware(app, renderer)
        app = AccessLogMiddleware(app, logger=access_logger, telemetry=telemetry)
        return RequestIdMiddleware(app)

    return wrap


def _lifespan(settings: Settings) -> Callable[[FastAPI], Any]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        logger = get_logger("example_service.app")
        async with AsyncExitStack() as stack:
            engine = create_engine(settings.database)
            stack.push_async_callback(engine.dispose)
            app.state.engine = engine
            app.state.session_factory = create_session_factory(engine)
            app.state.health_checks = {"db": database_check(engine)}
            app.state.started = True
            logger.info(
                "app.startup", environment=settings.app.environment.value, version=settings.app.version
            )
            try:
                yield
            finally:
                app.state.started = False
                logger.info("app.shutdown")

    return lifespan


def _api_router(settings: Settings) -> APIRouter:
    api = APIRouter(responses=problem_responses(500))
    api.include_router(health.router)
    api.include_router(meta.router)
    return api


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.load()
    settings.check()
    configure_logging(settings.log)

    renderer = ProblemRenderer(settings.app.error_format, settings.app.error_type_base)
    telemetry = build_telemetry(settings.telemetry, get_logger("example_service.telemetry"))
    docs = settings.app.docs_on
    app = ServiceApp(
        title=settings.app.name,
        version=settings.app.version,
        debug=False,  # debug tracebacks never reach clients; APP_DEBUG only affects logging
        lifespan=_lifespan(settings),
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.state.settings = settings
    app.state.telemetry = telemetry
    app.state.renderer = renderer
    app.state.health_checks = {}

    register_exception_handlers(app, renderer)
    app.include_router(health.root_router)
    app.include_router(_api_router(settings), prefix=settings.app.api_prefix)
    if settings.telemetry.mode == "prometheus":
        app.include_router(metrics.router)
    install_openapi(app, settings.app.error_format)

    access_logger = get_logger("example_service.access").bind() if settings.log.access_log else None
    app.outer = _outer_layers(renderer, telemetry, access_logger)
    return app
