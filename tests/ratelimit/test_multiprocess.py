"""Exactness across processes: two real servers sharing one Redis count as one.

Two `example-service serve` processes, a fixed window of L requests that cannot roll over
during the test (10**9 s), concurrent clients sending 3L requests for one key to both: exactly
L are served. Then Redis stops (both keep serving, in-process, and count the fallbacks) and
comes back (shared counting resumes, exact again).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import RedisServer, free_port

LIMIT = 20
BIN = Path(sys.executable).parent


@pytest.fixture
def servers(own_redis: RedisServer, tmp_path: Path) -> Iterator[list[str]]:
    env = {
        **os.environ,
        "APP_ENVIRONMENT": "test",
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/app.db",
        "REDIS_URL": own_redis.url,
        "REDIS_BREAKER_RESET_SECONDS": "0.2",
        "RATE_LIMIT_ALGORITHM": "fixed_window",
        "RATE_LIMIT_REQUESTS": str(LIMIT),
        "RATE_LIMIT_WINDOW_SECONDS": str(10**9),
        "RATE_LIMIT_KEY_STRATEGY": "api_key",
        "TELEMETRY_MODE": "prometheus",
    }
    ports = [free_port(), free_port()]
    procs = [
        subprocess.Popen(
            [str(BIN / "example-service"), "serve", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url in urls:
            _wait_up(url)
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=10)


def _wait_up(url: str) -> None:
    for _ in range(200):
        try:
            if httpx.get(url + "/health", timeout=0.5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # startup poll, not a timing assertion
    raise RuntimeError(f"{url} did not start")


async def burst(client: httpx.AsyncClient, urls: list[str], key: str, total: int) -> list[int]:
    async def one(n: int) -> int:
        url = urls[n % len(urls)] + "/api/v1/info"
        return (await client.get(url, headers={"X-API-Key": key})).status_code

    return list(await asyncio.gather(*(one(n) for n in range(total))))


async def fallbacks(client: httpx.AsyncClient, url: str) -> float:
    text = (await client.get(url + "/metrics")).text
    for line in text.splitlines():
        if line.startswith("ratelimit_fallbacks_total "):
            return float(line.split()[1])
    raise AssertionError("no ratelimit_fallbacks_total in /metrics")


async def test_two_processes_share_one_exact_limit(
    servers: list[str], own_redis: RedisServer
) -> None:
    limits = httpx.Limits(max_connections=40)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:
        statuses = await burst(client, servers, "shared-key", 3 * LIMIT)
        assert statuses.count(200) == LIMIT
        assert statuses.count(429) == 2 * LIMIT
        assert [await fallbacks(client, url) for url in servers] == [0.0, 0.0]

        own_redis.stop()
        # Each process counts in-process now: L/2 per process fit, all are served.
        statuses = await burst(client, servers, "outage-key", LIMIT)
        assert statuses == [200] * LIMIT
        counted = [await fallbacks(client, url) for url in servers]
        assert all(count > 0 for count in counted), counted

        own_redis.start()
        # Wait until each process's breaker has let a probe through and closed again.
        for url in servers:
            for _ in range(200):
                before = await fallbacks(client, url)
                await client.get(url + "/api/v1/info", headers={"X-API-Key": "probe"})
                if await fallbacks(client, url) == before:
                    break
                await asyncio.sleep(0.05)
            else:
                pytest.fail(f"{url} never went back to Redis")

        statuses = await burst(client, servers, "after-key", 3 * LIMIT)
        assert statuses.count(200) == LIMIT
        assert statuses.count(429) == 2 * LIMIT
