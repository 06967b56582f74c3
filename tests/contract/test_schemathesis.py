"""The OpenAPI contract, checked by Schemathesis against a real server process.

Every check Schemathesis has, on SQLite and on PostgreSQL, without credentials and with an
administrator's bearer token. Bounded: `SCHEMATHESIS_MAX_TIME` seconds per run (60 by default)
and `SCHEMATHESIS_MAX_EXAMPLES` per operation (15); `SCHEMATHESIS_SEED` fixes the run (a seed of
its own by default, so that CI replays the same cases; set another to explore). Any finding
fails the test with Schemathesis's report, which says how to reproduce it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from example_service.db.migrate import alembic_config, upgrade
from tests.identity import JWT_SECRET, PASSWORD
from tests.servers import served_app

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
ADMIN = "admin@example.com"

# Limits high enough that thousands of generated requests are served, not refused: the 429
# path is declared and tested elsewhere; here it would hide everything else.
SERVER_ENV = {
    "APP_ENVIRONMENT": "test",
    "SECURITY_JWT_SECRET": JWT_SECRET,
    "SECURITY_PASSWORD_HASH_TIME_COST": "1",
    "SECURITY_PASSWORD_HASH_MEMORY_KIB": "1024",
    "RATE_LIMIT_REQUESTS": "10000000",
    "RATE_LIMIT_PER_HOUR": "100000000",
    "RATE_LIMIT_LOGIN_PER_ACCOUNT": "10000000",
    "RATE_LIMIT_LOGIN_PER_ACCOUNT_GLOBAL": "10000000",
    "RATE_LIMIT_LOGIN_PER_CLIENT": "10000000",
    "LOG_LEVEL": "WARNING",
}


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/contract.db"
    else:
        url = str(request.getfixturevalue("postgres_url"))
    upgrade(alembic_config(url))
    return url


def _admin_token(base: str, database_url: str) -> str:
    created = httpx.post(f"{base}/api/v1/users", json={"email": ADMIN, "password": PASSWORD})
    assert created.status_code == 201, created.text
    promote = subprocess.run(
        [sys.executable, "-c", _PROMOTE, database_url, ADMIN], capture_output=True, check=False
    )
    assert promote.returncode == 0, promote.stderr.decode()
    login = httpx.post(f"{base}/api/v1/auth/login", json={"email": ADMIN, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return str(login.json()["access_token"])


# Promote through the database, as an operator would: no API can make an administrator.
_PROMOTE = """
import asyncio, sys
from sqlalchemy import update
from sqlalchemy.ext.asyncio import create_async_engine
from example_service.users.models import User

async def main(url, email):
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(update(User).where(User.email == email).values(role="admin"))
    await engine.dispose()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


@pytest.mark.parametrize("auth", ["anonymous", "bearer"])
def test_the_api_keeps_its_openapi_contract(database_url: str, auth: str, tmp_path: Path) -> None:
    env = {**SERVER_ENV, "DATABASE_URL": database_url}
    with served_app(tmp_path, env) as base:
        headers = []
        if auth == "bearer":
            headers = ["-H", f"Authorization: Bearer {_admin_token(base, database_url)}"]
        command = [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "--config-file",
            str(HERE / "schemathesis.toml"),
            "run",
            f"{base}/openapi.json",
            "--checks",
            "all",
            "--workers",
            "1",
            "--max-examples",
            os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "15"),
            "--max-time",
            os.environ.get("SCHEMATHESIS_MAX_TIME", "60"),
            "--seed",
            os.environ.get("SCHEMATHESIS_SEED", "20261130"),
            "--request-timeout",
            "10",
            "--no-color",
            *headers,
        ]
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
            cwd=tmp_path,
            env={
                **os.environ,
                "SCHEMATHESIS_HOOKS": "tests.contract.hooks",
                "PYTHONPATH": str(ROOT),
            },
        )
    report = result.stdout[-12000:] + result.stderr[-4000:]
    assert result.returncode == 0, report
    assert " passed" in result.stdout, report
