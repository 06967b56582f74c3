"""The CLI against a real server process: `serve` starts it, `health` probes it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from example_service.cli import build_cli
from tests.servers import free_port, served_app

BIN = Path(sys.executable).parent / "example-service"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.db", "LOG_LEVEL": "WARNING"}
    with served_app(tmp_path, env) as base:
        yield base


def test_serve_and_health(served: str) -> None:
    response = httpx.get(f"{served}/api/v1/info")
    assert response.status_code == 200
    assert "server" not in response.headers
    assert len(response.headers["x-request-id"]) == 32
    result = CliRunner().invoke(build_cli(), ["health", "--url", served])
    assert result.exit_code == 0, result.output
    assert '"db":{"status":"ok"' in result.output


def test_health_fails_when_nothing_listens() -> None:
    result = CliRunner().invoke(
        build_cli(), ["health", "--url", f"http://127.0.0.1:{free_port()}", "--timeout", "0.5"]
    )
    assert result.exit_code == 1
    assert "unreachable" in result.output


def test_serve_refuses_unsafe_production(tmp_path: Path) -> None:
    env = {**os.environ, "APP_ENVIRONMENT": "production"}
    result = subprocess.run(
        [str(BIN), "serve"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "SECURITY_JWT_SECRET" in result.stderr


def test_config_show_masks_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECURITY_JWT_SECRET", "s3cr3t-value-that-is-long-enough-xxxxx")
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://app:dbpass@db/app")
    result = CliRunner().invoke(build_cli(), ["config", "show"])
    assert result.exit_code == 0
    dump = orjson.loads(result.output)
    assert dump["security"]["jwt_secret"] == "**********"
    assert dump["database"]["url"] == "postgresql+asyncpg://app:***@db/app"
    assert "dbpass" not in result.output and "s3cr3t" not in result.output


def test_config_show_prints_notices_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_LOG_FORMAT", "console")
    result = CliRunner().invoke(build_cli(), ["config", "show"])
    assert result.exit_code == 0
    assert orjson.loads(result.stdout)["log"]["format"] == "console"
    assert result.stderr == "notice: APP_LOG_FORMAT is read as LOG_FORMAT; rename it\n"


# What a light command must not load.
HEAVY = ["fastapi", "sqlalchemy", "uvicorn", "structlog", "alembic", "httpx"]
# part: tasks
HEAVY.append("taskiq")
# end part: tasks


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["config", "show"],
        ["db", "--help"],
        ["generate", "--help"],
        ["dev", "--help"],
        # part: redis
        ["cache", "--help"],
        ["security", "bans", "--help"],
        # part: tasks
        ["tasks", "--help"],
        # end part: tasks
        # end part: redis
    ],
)
def test_light_commands_import_no_framework(argv: list[str]) -> None:
    # The CLI starts in well under a second: the web framework, the ORM, the server and the
    # logging stack load only for the commands that use them.
    probe = (
        "import sys\n"
        "from example_service.cli import main\n"
        f"sys.argv = ['example-service', *{argv!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"heavy = {HEAVY!r}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stderr.strip().splitlines()[-1] == "[]"


def test_serve_refuses_a_metrics_port_with_several_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEMETRY_MODE", "prometheus")
    monkeypatch.setenv("TELEMETRY_METRICS_PORT", "9100")
    result = CliRunner().invoke(build_cli(), ["serve", "--workers", "2"])
    assert result.exit_code == 2
    assert "TELEMETRY_METRICS_PORT" in result.stderr
