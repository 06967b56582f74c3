from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from example_service.health.probes import ProbeResult, Status
from example_service.resilience.breaker import BreakerState


class OkStatus(BaseModel):
    status: Literal["ok"] = "ok"


class DependencyStatus(BaseModel):
    status: Status
    required: bool = Field(description="Whether the service can answer without it.")
    breaker: BreakerState | None = Field(description="Its circuit breaker, if it has one.")
    probe: ProbeResult = Field(description="How the probe of this request went.")
    # Only where the check says more than whether it answered: the schema is `head`, `behind`
    # (the code needs a migration: unavailable) or `ahead` (a newer release migrated: degraded).
    detail: str | None = Field(
        default=None,
        description="What the check found, where answering says too little.",
        exclude_if=lambda value: value is None,
    )


class Readiness(BaseModel):
    status: Status = Field(
        description="ok; degraded (serving, a dependency impaired); unavailable (503)."
    )
    checks: dict[str, DependencyStatus]


class Startup(BaseModel):
    status: Literal["ok", "unavailable"]
