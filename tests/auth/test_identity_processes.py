"""Two real server processes sharing PostgreSQL and Redis (the default two-level cache): a
change made through one is never served stale by the other, and with Redis frozen both keep
answering correctly from the database."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from example_service.db.migrate import alembic_config, upgrade
from tests.contract.test_schemathesis import SERVER_ENV
from tests.identity import PASSWORD
from tests.servers import RedisServer, served_app


@pytest.fixture
def servers(own_redis: RedisServer, postgres_url: str, tmp_path: Path) -> Iterator[list[str]]:
    upgrade(alembic_config(postgres_url))
    env = {
        **SERVER_ENV,
        "DATABASE_URL": postgres_url,
        "REDIS_URL": own_redis.url,
        "REDIS_TIMEOUT_SECONDS": "0.1",
        "TELEMETRY_MODE": "prometheus",  # to read each process's cache hits
        "TELEMETRY_METRICS_PUBLIC": "true",
    }
    with served_app(tmp_path, env) as first, served_app(tmp_path, env) as second:
        yield [first, second]


def me(client: httpx.Client, base: str, token: str) -> httpx.Response:
    return client.get(f"{base}/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})


def principal_hits(client: httpx.Client, base: str) -> float:
    for line in client.get(f"{base}/metrics").text.splitlines():
        if line.startswith('cache_hits_total{cache="principals"}'):
            return float(line.split()[-1])
    return 0.0


def test_a_change_through_one_process_is_seen_by_the_other_at_once(
    servers: list[str], own_redis: RedisServer
) -> None:
    one, two = servers
    with httpx.Client(timeout=10) as client:
        account = {"email": "alice@example.com", "password": PASSWORD}
        created = client.post(f"{one}/api/v1/users", json=account)
        assert created.status_code == 201, created.text
        token = client.post(f"{one}/api/v1/auth/login", json=account).json()["access_token"]
        for _ in range(3):  # the first fills the shared cache, the others are its hits
            assert me(client, two, token).json()["full_name"] == ""
        assert principal_hits(client, two) == 2

        renamed = client.patch(
            f"{one}/api/v1/users/{created.json()['id']}",
            headers={"Authorization": f"Bearer {token}"},
            json={"full_name": "Alice A."},
        )
        assert renamed.status_code == 200
        assert me(client, two, token).json()["full_name"] == "Alice A."
        assert me(client, two, token).json()["full_name"] == "Alice A."
        assert principal_hits(client, two) == 3  # the new state, cached again

        # Redis frozen: the answers come from the database, still right, on both processes.
        assert own_redis.process is not None
        os.kill(own_redis.process.pid, signal.SIGSTOP)
        try:
            for base in (one, two, two):
                assert me(client, base, token).json()["full_name"] == "Alice A."
        finally:
            os.kill(own_redis.process.pid, signal.SIGCONT)

        logout = client.post(
            f"{one}/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"}
        )
        assert logout.status_code == 204
        assert me(client, two, token).status_code == 401
        assert me(client, one, token).status_code == 401
