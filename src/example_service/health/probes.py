"""Readiness checks: each configured dependency is probed concurrently under a timeout."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from example_service.observability.logging import get_logger

CheckResult = Literal["ok", "error", "timeout"]
Check = Callable[[], Awaitable[object]]

logger = get_logger("example_service.health")


def database_check(engine: AsyncEngine) -> Check:
    async def check() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    return check


async def _run(name: str, check: Check, limit_s: float) -> CheckResult:
    try:
        await asyncio.wait_for(check(), limit_s)
    except TimeoutError:
        logger.warning("health.check_timeout", check=name, timeout_s=limit_s)
        return "timeout"
    except Exception as exc:  # noqa: BLE001 - any failure of a dependency means "not ready"
        logger.warning("health.check_failed", check=name, error=type(exc).__name__)
        return "error"
    return "ok"


async def run_checks(checks: Mapping[str, Check], limit_s: float) -> dict[str, CheckResult]:
    names = list(checks)
    results = await asyncio.gather(*(_run(n, checks[n], limit_s) for n in names))
    return dict(zip(names, results, strict=True))
