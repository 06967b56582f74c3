"""The live verification script against a real `example-service serve` process."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.identity import JWT_SECRET
from tests.scripts.loading import load_script, run_script
from tests.servers import free_port, served_app

BIN = Path(sys.executable).parent / "example-service"
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "verify_prod_hardening.py"


@pytest.fixture
def served(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/verify.db",
        "LOG_LEVEL": "WARNING",
        "SECURITY_JWT_SECRET": JWT_SECRET,
        "SECURITY_PASSWORD_HASH_MEMORY_KIB": "1024",
        "SECURITY_PASSWORD_HASH_TIME_COST": "1",
        **getattr(request, "param", {}),
    }
    subprocess.run([str(BIN), "db", "upgrade"], env={**os.environ, **env}, cwd=tmp_path, check=True)
    with served_app(tmp_path, env) as base:
        yield base


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_script(SCRIPT, *args)


def test_passes_against_a_real_server(served: str) -> None:
    result = run(served)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK: user created; logged in; user read twice; 404 follows")


@pytest.mark.parametrize(
    "served",
    [{"RATE_LIMIT_ALGORITHM": "fixed_window", "RATE_LIMIT_REQUESTS": "8", "RATE_LIMIT_BURST": "0"}],
    indirect=True,
)
def test_drives_a_real_429(served: str) -> None:
    result = run(served)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "429 follows the error contract" in result.stdout


def test_fails_when_nothing_answers() -> None:
    result = run(f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 1
    assert result.stdout.startswith("FAIL: ConnectError")


def test_usage() -> None:
    assert run().returncode == 2


def limited_service(retry_after: str | None) -> httpx.MockTransport:
    """A service with rate-limit headers whose third user read is refused (the 429 branch; the
    real limiter is exercised by its own tests)."""
    reads = 0
    rid = {"x-request-id": "r1"}

    def handle(request: httpx.Request) -> httpx.Response:
        nonlocal reads
        path = request.url.path
        if path == "/api/v1/users":
            return httpx.Response(201, json={"id": "u1"})
        if path == "/api/v1/auth/login":
            return httpx.Response(200, json={"access_token": "t"})
        if path == "/api/v1/users/u1":
            reads += 1
            limits = {"x-ratelimit-limit": "2", "x-ratelimit-remaining": "0"}
            if reads <= 2:
                return httpx.Response(200, json={"id": "u1"}, headers=limits)
            body = {"code": "rate_limited", "request_id": "r1"}
            headers = {**limits, **rid, "content-type": "application/problem+json"}
            if retry_after is not None:
                headers["retry-after"] = retry_after
            return httpx.Response(429, json=body, headers=headers)
        return httpx.Response(
            404,
            json={"code": "not_found", "request_id": "r1"},
            headers={**rid, "content-type": "application/problem+json"},
        )

    return httpx.MockTransport(handle)


def test_drives_and_checks_a_429_when_rate_limited() -> None:
    script = load_script("verify_prod_hardening")
    with httpx.Client(transport=limited_service("7")) as client:
        done = script.verify("http://svc", client)
    assert done[-1] == "429 follows the error contract"
    with (
        httpx.Client(transport=limited_service(None)) as client,
        pytest.raises(script.CheckFailedError, match="Retry-After"),
    ):
        script.verify("http://svc", client)
