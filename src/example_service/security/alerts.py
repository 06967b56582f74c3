"""Security alerting (SECURITY_ENABLE_ALERTING): sustained refusals become one alert per window.

Rate-limit refusals (429) and authentication failures (401) are counted per client address and
in total over fixed windows of SECURITY_ALERT_WINDOW_SECONDS. The request that brings a count to
its threshold raises the alert: one `security.alert` log event (WARNING), one increment of
`security_alerts_total{kind, scope}`, and, with SECURITY_ALERT_WEBHOOK_SERVICE, one POST of the
alert to that outbound service (its breaker and retries apply; the POST carries an
Idempotency-Key, so it is retried like any idempotent call). Later requests of the same window
add nothing: the count passes the threshold only once. Each process counts what it sees.
# part: redis

With REDIS_URL the counts are kept in Redis for every process (alert_count.lua), so a client
spreading its requests over instances is counted once and each alert is raised by one process
only; without Redis, or while it cannot answer, each process counts what it sees.
# end part: redis
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import TYPE_CHECKING, Any

from example_service.errors.exceptions import AppError
from example_service.observability.logging import get_logger
from example_service.ratelimit.base import Clock, wall_clock
from example_service.resilience.errors import BackendUnavailable
from example_service.settings import SecuritySettings

if TYPE_CHECKING:
    from example_service.outbound.client import ServiceClient

# part: redis
if TYPE_CHECKING:
    from example_service.redis.client import RedisLayer
    from example_service.security.alerts_redis import RedisAlertCounts
# end part: redis

logger = get_logger("example_service.security")

# Per-client counts kept within one window at most: a flood from more addresses than this
# still counts in total (and alerts there) without growing memory.
MAX_CLIENTS = 100_000


class SecurityAlerts:
    def __init__(
        self, settings: SecuritySettings, clock: Clock = wall_clock, registry: Any | None = None
    ) -> None:
        self.clock = clock
        self.prefix = settings.ban_prefix
        # part: redis
        self.shared: RedisAlertCounts | None = None
        # end part: redis
        self.fallbacks = 0
        self.window = settings.alert_window_seconds
        self.per_client = {
            "rate_limit": settings.alert_rate_limit_threshold,
            "auth_failure": settings.alert_auth_failure_threshold,
        }
        self.in_total = {
            "rate_limit": settings.alert_total_rate_limit_threshold,
            "auth_failure": settings.alert_total_auth_failure_threshold,
        }
        self.webhook: ServiceClient | None = None  # set by the lifespan
        self.webhook_path = settings.alert_webhook_path
        self.index = -1
        self.clients: Counter[tuple[str, str]] = Counter()
        self.totals: Counter[str] = Counter()
        self.raised = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._counter: Any | None = None
        if registry is not None:
            from prometheus_client import Counter as PromCounter  # noqa: PLC0415 - that mode only

            self._counter = PromCounter(
                "security_alerts_total",
                "Security alerts raised (one per window, kind and scope)",
                ["kind", "scope"],
                registry=registry,
            )
            for kind in self.per_client:  # at 0 from the start: the alert rules' series exist
                for scope in ("client", "total"):
                    self._counter.labels(kind, scope)

    # part: redis
    def use_redis(self, redis: RedisLayer) -> None:
        from example_service.security.alerts_redis import RedisAlertCounts  # noqa: PLC0415 - Redis only when configured

        self.shared = RedisAlertCounts(redis, self.prefix)

    def use_memory(self) -> None:
        self.shared = None

    # end part: redis
    async def record(self, kind: str, client: str) -> None:
        """One refusal of `kind` (rate_limit | auth_failure) answered to `client`."""
        # part: redis
        if self.shared is not None:
            try:
                counts = await self.shared.count(kind, client, self.window)
            except BackendUnavailable as exc:
                self.fallbacks += 1
                logger.warning("security.alerts_fallback", reason=str(exc))
            else:
                client_count, total, self.index = counts
                self._check(kind, client, client_count, total)
                return
        # end part: redis
        self._count_here(kind, client)

    def _check(self, kind: str, client: str, client_count: int, total: int) -> None:
        if client_count == self.per_client[kind]:
            self._raise(kind, "client", client_count, self.per_client[kind], client)
        if total == self.in_total[kind]:
            self._raise(kind, "total", total, self.in_total[kind], None)

    def _count_here(self, kind: str, client: str) -> None:
        index = int(self.clock() // self.window)
        if index != self.index:
            self.index = index
            self.clients.clear()
            self.totals.clear()
        key = (kind, client)
        client_count = 0  # not counted: past MAX_CLIENTS in this window
        if key in self.clients or len(self.clients) < MAX_CLIENTS:
            self.clients[key] += 1
            client_count = self.clients[key]
        self.totals[kind] += 1
        self._check(kind, client, client_count, self.totals[kind])

    def _raise(self, kind: str, scope: str, count: int, threshold: int, client: str | None) -> None:
        self.raised += 1
        alert = {
            "id": str(uuid.uuid4()),
            "kind": kind,
            "scope": scope,
            "client": client,
            "count": count,
            "threshold": threshold,
            "window_seconds": self.window,
            "window_start": self.index * self.window,
        }
        logger.warning("security.alert", **alert)
        if self._counter is not None:
            self._counter.labels(kind, scope).inc()
        if self.webhook is not None:
            task = asyncio.get_running_loop().create_task(self._post(self.webhook, alert))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _post(self, webhook: ServiceClient, alert: dict[str, Any]) -> None:
        try:
            response = await webhook.post(
                self.webhook_path, json=alert, headers={"Idempotency-Key": alert["id"]}
            )
        except AppError as exc:  # the outbound client's failures, already logged by it
            logger.warning("security.alert_webhook_failed", alert=alert["id"], reason=exc.detail)
            return
        if response.status_code >= 400:
            logger.warning(
                "security.alert_webhook_failed",
                alert=alert["id"],
                reason=f"HTTP {response.status_code}",
            )

    async def aclose(self) -> None:
        """Wait for the webhook calls under way (each bounded by its own timeouts)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
