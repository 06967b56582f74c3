"""Bans shared through a real Redis by two real server processes, and lifted by the CLI."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from tests.servers import PROJECT_PREFIXES, RedisServer, served_app

LIMIT = 2
STRIKES = 3


@pytest.fixture
def env(redis_server: RedisServer, tmp_path: Path) -> dict[str, str]:
    unique = uuid.uuid4().hex[:8]
    return {
        "APP_ENVIRONMENT": "test",
        "LOG_LEVEL": "WARNING",
        "REDIS_URL": redis_server.url,
        "RATE_LIMIT_ALGORITHM": "fixed_window",
        "RATE_LIMIT_REQUESTS": str(LIMIT),
        "RATE_LIMIT_BURST": "0",
        "RATE_LIMIT_PREFIX": f"rl-{unique}:",
        "SECURITY_ENABLE_DDOS_PROTECTION": "true",
        "SECURITY_BAN_RATE_LIMIT_REFUSALS": str(STRIKES),
        "SECURITY_BAN_PREFIX": f"abuse-{unique}:",
        "SECURITY_BAN_SYNC_SECONDS": "0.1",
        # Requests come from this test through 127.0.0.1, each naming its client.
        "SECURITY_TRUSTED_PROXIES": "127.0.0.1",
    }


@pytest.fixture
def servers(env: dict[str, str], tmp_path: Path) -> Iterator[list[str]]:
    def db(name: str) -> dict[str, str]:
        return {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/{name}.db"}

    with served_app(tmp_path, env | db("one")) as one, served_app(tmp_path, env | db("two")) as two:
        yield [one, two]


def cli(env: dict[str, str], cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(PROJECT_PREFIXES)}
    return subprocess.run(
        [sys.executable, "-m", "example_service", *argv],
        cwd=cwd,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def until(condition: Callable[[], bool], within: float = 10.0) -> None:
    """Poll `condition` until it holds; fail after `within` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"not true within {within}s"
        time.sleep(0.05)


def test_a_ban_made_by_one_process_is_enforced_by_the_other(
    servers: list[str], env: dict[str, str], tmp_path: Path
) -> None:
    one, two = servers
    address = f"198.18.{random.randrange(256)}.{random.randrange(1, 255)}"
    client = {"X-Forwarded-For": address}
    other = {"X-Forwarded-For": "198.19.0.1"}
    with httpx.Client(timeout=10) as http:

        def banned_on(base: str) -> bool:
            response = http.get(base + "/health", headers=client)
            return response.status_code == 429 and response.json()["code"] == "client_banned"

        statuses = [
            http.get(one + "/api/v1/info", headers=client).status_code
            for _ in range(LIMIT + STRIKES)
        ]
        assert statuses == [200] * LIMIT + [429] * STRIKES
        assert banned_on(one)
        until(lambda: banned_on(two))
        refused = http.get(two + "/api/v1/info", headers=client)
        assert int(refused.headers["retry-after"]) in range(55, 61)
        assert http.get(two + "/health", headers=other).status_code == 200

        listed = cli(env, tmp_path, "security", "bans", "list", "--json")
        assert listed.returncode == 0, listed.stderr
        [entry] = orjson.loads(listed.stdout)
        assert (entry["address"], entry["level"]) == (address, 1)
        assert 0 < entry["seconds_left"] <= 60

        lifted = cli(env, tmp_path, "security", "bans", "unban", address)
        assert lifted.returncode == 0, lifted.stderr
        assert lifted.stdout.strip() == f"unbanned {address}"
        until(lambda: not banned_on(one) and not banned_on(two))
        assert cli(env, tmp_path, "security", "bans", "list").stdout.strip() == "no bans in force"
