from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from example_service.health.probes import CheckResult


class Status(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: dict[str, CheckResult]
