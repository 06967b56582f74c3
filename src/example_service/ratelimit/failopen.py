"""Fail open: when the shared backend cannot answer, decide in-process and say so.

Every fallback is counted (`fallbacks`, plus an optional Prometheus counter) and logged as
`ratelimit.fallback`. The Redis layer's breaker makes a down server cost nothing per request,
and counting in Redis resumes by itself once the breaker's probe succeeds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from example_service.observability.logging import get_logger
from example_service.ratelimit.base import Decision, Policy
from example_service.ratelimit.memory import MemoryBackend
from example_service.resilience.errors import BackendUnavailable

if TYPE_CHECKING:
    from example_service.ratelimit.redis import RedisBackend

logger = get_logger("example_service.ratelimit")


class FailOpenBackend:
    def __init__(
        self, primary: RedisBackend, fallback: MemoryBackend, counter: Any | None = None
    ) -> None:
        self.primary = primary
        self.fallback = fallback
        self.counter = counter  # a prometheus_client Counter, when metrics are on
        self.fallbacks = 0

    async def hit(self, key: str, policy: Policy, cost: int = 1) -> Decision:
        try:
            # The primary's future, awaited here: one coroutine for the hit, not two.
            return await self.primary.submit(key, policy, cost)
        except BackendUnavailable as exc:
            self._fell_back(policy.name, exc)
            return self.fallback.hit_now(key, policy, cost)

    async def mark(self, key: str, seconds: int) -> None:
        try:
            await self.primary.mark(key, seconds)
        except BackendUnavailable as exc:
            self._fell_back("mark", exc)
            await self.fallback.mark(key, seconds)

    async def is_marked(self, key: str) -> bool:
        try:
            return await self.primary.is_marked(key)
        except BackendUnavailable as exc:
            self._fell_back("mark", exc)
            return await self.fallback.is_marked(key)

    def _fell_back(self, policy: str, exc: BackendUnavailable) -> None:
        self.fallbacks += 1
        if self.counter is not None:
            self.counter.inc()
        logger.warning("ratelimit.fallback", policy=policy, reason=str(exc))
