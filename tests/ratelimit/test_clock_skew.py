"""Clock skew between instances: two real servers share one Redis, one of them with its wall clock
30 s ahead (libfaketime). They must still count one limit, on Redis's clock.

With each instance deciding on its own clock, 30 s of skew is exactly three 10 s windows: every
request from one reset the window the other had counted, and all requests were served.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
import pytest

from tests.servers import RedisServer, faketime_env, served_app

LIMIT = 10
WINDOW = 10  # seconds; the skew is three windows
SKEW = "+30s"


@pytest.fixture
def servers(redis_server: RedisServer, tmp_path: Path) -> Iterator[list[str]]:
    skewed = faketime_env(SKEW)  # first: skips (or fails) before any server starts

    def env(name: str) -> dict[str, str]:
        return {
            "APP_ENVIRONMENT": "test",
            "LOG_LEVEL": "WARNING",
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/{name}.db",
            "REDIS_URL": redis_server.url,
            "RATE_LIMIT_ALGORITHM": "fixed_window",
            "RATE_LIMIT_REQUESTS": str(LIMIT),
            "RATE_LIMIT_WINDOW_SECONDS": str(WINDOW),
            "RATE_LIMIT_KEY_STRATEGY": "api_key",
        }

    with (
        served_app(tmp_path, env("on-time")) as on_time,
        served_app(tmp_path, {**env("ahead"), **skewed}) as ahead,
    ):
        yield [on_time, ahead]


def wait_for_a_fresh_window() -> None:
    """Redis runs on this machine's clock: if its current window ends within 3 s, start the
    burst in the next one, so that no boundary passes during it (a bounded wait, < 3 s)."""
    left = WINDOW - time.time() % WINDOW
    if left < 3:
        time.sleep(left + 0.05)


async def test_a_skewed_instance_counts_in_the_same_window(servers: list[str]) -> None:
    key = {"X-API-Key": uuid.uuid4().hex}
    async with httpx.AsyncClient(timeout=10) as client:
        # The skew is real: the servers' Date headers are 30 s apart.
        dates = [(await client.get(url + "/health")).headers["date"] for url in servers]
        skew = [parsedate_to_datetime(d).timestamp() for d in dates]
        assert 28 <= skew[1] - skew[0] <= 32, dates

        wait_for_a_fresh_window()
        responses = [
            await client.get(servers[n % 2] + "/api/v1/info", headers=key) for n in range(3 * LIMIT)
        ]
    statuses = [r.status_code for r in responses]
    assert statuses == [200] * LIMIT + [429] * (2 * LIMIT)
    # Both report the one shared window: the reset and t come from the same (Redis) clock.
    resets = {r.headers["x-ratelimit-reset"] for r in responses}
    assert len(resets) == 1, resets
    t_values = {r.headers["ratelimit"].rsplit("t=", 1)[1] for r in responses}
    assert t_values <= {str(n) for n in range(1, WINDOW + 1)}
