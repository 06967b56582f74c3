"""Readiness: each dependency probed concurrently under a timeout, reported with its breaker.

A dependency is `required` when the service cannot answer without it (the database) and
optional when requests go on without it (Redis: rate limiting and caching fail open). Each one
is `ok`; `degraded` when its probe answers but its breaker is still open (requests to it still
fail fast until the next trial) or, for an optional one, when its probe fails; `unavailable`
when a required one's probe fails. The service is as bad as its worst dependency, except that an
optional dependency never makes it unavailable: one Redis outage must not take every instance
out of the load balancer.

A check that answers can still find its dependency unfit (the schema behind the code): it
returns a `Finding`, whose status and detail the report carries.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from example_service.observability.logging import get_logger
from example_service.resilience.breaker import BreakerState, CircuitBreaker

ProbeResult = Literal["ok", "error", "timeout"]
Status = Literal["ok", "degraded", "unavailable"]
Check = Callable[[], Awaitable[object]]

logger = get_logger("example_service.health")


@dataclass(frozen=True, slots=True)
class Finding:
    """What a check found, when answering is not the whole answer."""

    detail: str
    status: Status


@dataclass(frozen=True, slots=True)
class Dependency:
    name: str
    check: Check
    required: bool
    breaker: CircuitBreaker | None = None


@dataclass(frozen=True, slots=True)
class DependencyReport:
    status: Status
    required: bool
    breaker: BreakerState | None
    probe: ProbeResult
    detail: str | None = None


def database_check(engine: AsyncEngine) -> Check:
    async def check() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    return check


async def probe(name: str, check: Check, limit_s: float) -> tuple[ProbeResult, Finding | None]:
    try:
        answer = await asyncio.wait_for(check(), limit_s)
    except TimeoutError:
        logger.warning("health.check_timeout", check=name, timeout_s=limit_s)
        return "timeout", None
    except Exception as exc:  # noqa: BLE001 - any failure of a dependency means "not ready"
        logger.warning("health.check_failed", check=name, error=type(exc).__name__)
        return "error", None
    return "ok", answer if isinstance(answer, Finding) else None


def _status(dependency: Dependency, result: ProbeResult, finding: Finding | None) -> Status:
    if result != "ok":
        return "unavailable" if dependency.required else "degraded"
    if finding is not None and finding.status != "ok":
        # As for a failed probe: only a required dependency makes the service unavailable.
        return (
            "unavailable"
            if finding.status == "unavailable" and dependency.required
            else ("degraded")
        )
    breaker = dependency.breaker
    if breaker is not None and breaker.state is not BreakerState.CLOSED:
        return "degraded"
    return "ok"


async def check_dependencies(
    dependencies: Iterable[Dependency], limit_s: float
) -> dict[str, DependencyReport]:
    listed = list(dependencies)
    results = await asyncio.gather(*(probe(d.name, d.check, limit_s) for d in listed))
    return {
        d.name: DependencyReport(
            status=_status(d, result, finding),
            required=d.required,
            breaker=d.breaker.state if d.breaker is not None else None,
            probe=result,
            detail=finding.detail if finding is not None else None,
        )
        for d, (result, finding) in zip(listed, results, strict=True)
    }


def overall(reports: dict[str, DependencyReport]) -> Status:
    statuses = {report.status for report in reports.values()}
    if "unavailable" in statuses:
        return "unavailable"
    return "degraded" if "degraded" in statuses else "ok"
