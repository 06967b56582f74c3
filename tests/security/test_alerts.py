"""Alert counts shared through Redis: one alert per window for the whole deployment, however the
refusals are spread over processes; in-process counting while Redis cannot answer."""

from __future__ import annotations

from typing import Any

import pytest

from example_service.observability.logging import configure_logging
from example_service.redis.client import RedisLayer, create_redis
from example_service.security.alerts import SecurityAlerts
from example_service.security.alerts_redis import RedisAlertCounts
from example_service.settings import LogSettings, RedisSettings, SecuritySettings
from tests.conftest import LogCapture
from tests.outbound.upstream import refused_url
from tests.security.conftest import FakeClock

A, B = "198.18.0.1", "198.18.0.2"


@pytest.fixture(autouse=True)
def _json_logs(logs: LogCapture) -> None:
    configure_logging(LogSettings())  # into the captured stream, as the app would


class ClockedAlertCounts(RedisAlertCounts):
    """The production script deciding at a test clock's instants (see ClockedRedisBans)."""

    def __init__(self, redis: RedisLayer, prefix: str, clock: FakeClock) -> None:
        self.clock = clock
        super().__init__(redis, prefix)

    def clock_prelude(self, server_time: str) -> str:
        return "local now = tonumber(ARGV[#ARGV])\n"

    def now_args(self) -> list[Any]:
        return [int(self.clock() * 1000)]


def settings(prefix: str) -> SecuritySettings:
    return SecuritySettings(
        enable_alerting=True,
        alert_rate_limit_threshold=5,
        alert_total_rate_limit_threshold=8,
        alert_window_seconds=60,
        ban_prefix=prefix,
    )


async def test_processes_sharing_redis_raise_each_alert_once(
    redis_layer: RedisLayer, prefix: str, clock: FakeClock, logs: LogCapture
) -> None:
    one, two = SecurityAlerts(settings(prefix)), SecurityAlerts(settings(prefix))
    for alerts in (one, two):
        alerts.shared = ClockedAlertCounts(redis_layer, prefix, clock)
    # A client spreading its refusals over two processes: 3 + 3, never 5 in either.
    for _ in range(3):
        await one.record("rate_limit", A)
        await two.record("rate_limit", A)
    for _ in range(4):
        await two.record("rate_limit", B)
    events = [(e["scope"], e["client"], e["count"]) for e in logs.events("security.alert")]
    assert events == [("client", A, 5), ("total", None, 8)]
    assert one.raised + two.raised == 2
    clock.advance(60)
    for _ in range(5):
        await one.record("rate_limit", A)
    events = [(e["scope"], e["client"], e["count"]) for e in logs.events("security.alert")]
    assert events[2:] == [("client", A, 5)]
    assert {e["window_start"] for e in logs.events("security.alert")} == {
        int(clock() // 60 * 60) - 60,
        int(clock() // 60 * 60),
    }


async def test_alerts_are_counted_in_process_while_redis_is_down(
    prefix: str, logs: LogCapture
) -> None:
    layer = create_redis(RedisSettings(url=refused_url().replace("http", "redis")))
    assert layer is not None
    alerts = SecurityAlerts(settings(prefix))
    alerts.use_redis(layer)
    try:
        for _ in range(6):
            await alerts.record("rate_limit", A)
    finally:
        await layer.aclose()
    assert [e["count"] for e in logs.events("security.alert")] == [5]
    assert alerts.fallbacks == 6
