"""`example-service config check`: exit 0 when the environment can run the service, else exit 1
naming each problem (settings, database reachable and migrated, the other servers configured)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from example_service.cli import build_cli
from example_service.db.migrate import alembic_config, upgrade
from tests.servers import RedisServer, free_port

WEAK = "short-secret"


def check() -> Result:
    return CliRunner().invoke(build_cli(), ["config", "check"])


def problems(result: Result) -> list[str]:
    return [line.removeprefix("problem: ") for line in result.stderr.splitlines()]


def test_a_migrated_database_passes(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    upgrade(alembic_config(db_url))
    monkeypatch.setenv("DATABASE_URL", db_url)
    result = check()
    assert result.exit_code == 0, result.output
    backend = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    assert f"ok: database: {backend}, at " in result.stdout
    # part: redis
    assert "ok: redis: not configured (in-process backends)" in result.stdout
    # end part: redis
    assert result.stderr == ""


def test_an_unmigrated_database_is_named(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if db_url.startswith("sqlite"):
        Path(db_url.removeprefix("sqlite+aiosqlite:///")).touch()  # exists, but empty
    monkeypatch.setenv("DATABASE_URL", db_url)
    result = check()
    assert result.exit_code == 1
    (problem,) = problems(result)
    assert problem.startswith("database: at no revision, the head is ")
    assert problem.endswith("run `example-service db upgrade`")


def test_a_missing_sqlite_file_is_reported_not_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "var" / "none.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    result = check()
    assert result.exit_code == 1
    assert problems(result) == [
        f"database: {path} does not exist: run `example-service db upgrade`"
    ]
    assert not path.parent.exists()


def test_every_problem_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENVIRONMENT", "production")
    monkeypatch.setenv("SECURITY_JWT_SECRET", WEAK)
    monkeypatch.setenv("APP_DEBUG", "true")
    monkeypatch.setenv("DATABASE_URL", f"postgresql+asyncpg://app:pw@127.0.0.1:{free_port()}/app")
    monkeypatch.setenv("DATABASE_CONNECT_TIMEOUT_SECONDS", "1")
    # part: redis
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    # end part: redis
    result = check()
    assert result.exit_code == 1
    found = problems(result)
    assert found[:2] == [
        "settings: SECURITY_JWT_SECRET must be at least 32 characters",
        "settings: APP_DEBUG must be false",
    ]
    assert found[2].startswith("database: unreachable: ")
    # part: redis
    assert found.pop(3).startswith("redis: unreachable: ")
    # end part: redis
    assert len(found) == 3 and WEAK not in result.output and ":pw@" not in result.output


def test_invalid_settings_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_POOL_SIZE", "many")
    result = check()
    assert result.exit_code == 1
    (problem,) = problems(result)
    assert problem.startswith("settings: DATABASE_POOL_SIZE: ")


# part: redis
def test_a_reachable_redis_passes(
    redis_server: RedisServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/ok.db"
    upgrade(alembic_config(url))
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    result = check()
    assert result.exit_code == 0, result.output
    assert "ok: redis: answers" in result.stdout


# end part: redis
