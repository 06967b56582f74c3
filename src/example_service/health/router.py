"""`/health` (legacy, exactly {"status":"ok"}) and the live / ready / startup probes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from example_service.health.probes import run_checks
from example_service.health.schemas import Readiness, Status

router = APIRouter(prefix="/health", tags=["health"])

_NOT_READY: dict[int | str, dict[str, Any]] = {
    503: {"model": Readiness, "description": "A dependency is unavailable"}
}


async def health() -> Status:
    """Legacy probe at `/health`: exactly {"status": "ok"}."""
    return Status()


@router.get("/live", response_model=Status)
async def live() -> Status:
    """The process answers: nothing else is checked."""
    return Status()


@router.get("/ready", response_model=Readiness, responses=_NOT_READY)
async def ready(request: Request, response: Response) -> Readiness:
    """Each configured dependency answers within the timeout; 503 otherwise."""
    state = request.app.state
    checks = await run_checks(state.health_checks, state.settings.security.health_timeout_seconds)
    ok = all(result == "ok" for result in checks.values())
    if not ok:
        response.status_code = 503
    return Readiness(status="ok" if ok else "unavailable", checks=checks)


@router.get("/startup", response_model=Readiness, responses=_NOT_READY)
async def startup(request: Request, response: Response) -> Readiness:
    """Startup finished: resources are built and the lifespan has yielded."""
    started = bool(getattr(request.app.state, "started", False))
    if not started:
        response.status_code = 503
    return Readiness(
        status="ok" if started else "unavailable", checks={"lifespan": "ok" if started else "error"}
    )
