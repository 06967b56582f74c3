"""`/health` (legacy, exactly {"status":"ok"}) and the live / ready / startup probes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from example_service.health.probes import check_dependencies, overall
from example_service.health.schemas import DependencyStatus, OkStatus, Readiness, Startup

router = APIRouter(prefix="/health", tags=["health"])

_NOT_READY: dict[int | str, dict[str, Any]] = {
    503: {"model": Readiness, "description": "A required dependency is unavailable"}
}
_NOT_STARTED: dict[int | str, dict[str, Any]] = {
    503: {"model": Startup, "description": "Still starting"}
}


async def health() -> OkStatus:
    """Legacy probe at `/health`: exactly {"status": "ok"}."""
    return OkStatus()


@router.get("/live", response_model=OkStatus)
async def live() -> OkStatus:
    """The process answers: nothing else is checked."""
    return OkStatus()


@router.get("/ready", response_model=Readiness, responses=_NOT_READY)
async def ready(request: Request, response: Response) -> Readiness:
    """Every dependency, probed within the timeout, with its breaker: 503 only when a required
    one (the database) is unavailable; an optional one (Redis) down is `degraded`, still 200."""
    state = request.app.state
    reports = await check_dependencies(
        state.dependencies, state.settings.security.health_timeout_seconds
    )
    state.last_readiness = reports  # for the dependency_status metric (observability/metrics.py)
    status = overall(reports)
    if status == "unavailable":
        response.status_code = 503
    return Readiness(
        status=status,
        checks={
            name: DependencyStatus(
                status=r.status,
                required=r.required,
                breaker=r.breaker,
                probe=r.probe,
                detail=r.detail,
            )
            for name, r in reports.items()
        },
    )


@router.get("/startup", response_model=Startup, responses=_NOT_STARTED)
async def startup(request: Request, response: Response) -> Startup:
    """Startup finished: resources are built and the lifespan has yielded."""
    started = bool(getattr(request.app.state, "started", False))
    if not started:
        response.status_code = 503
    return Startup(status="ok" if started else "unavailable")
