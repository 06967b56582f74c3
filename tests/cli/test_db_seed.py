"""`example-service db seed`: demo accounts created once, on SQLite and PostgreSQL; refused in
production; a password the policy refuses is one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from example_service.cli import build_cli
from example_service.db.migrate import alembic_config, upgrade

PASSWORD = "seeded demo password 4"


def seed(*args: str) -> Result:
    return CliRunner().invoke(build_cli(), ["db", "seed", *args])


def said(result: Result) -> list[str]:
    """The command's own lines (the service's log lines go to the same stream)."""
    return [line for line in result.stdout.splitlines() if line.startswith(("created", "present"))]


def users() -> list[str]:
    listed = CliRunner().invoke(build_cli(), ["users", "list"])
    assert listed.exit_code == 0, listed.output
    rows = [line.split() for line in listed.stdout.splitlines() if "@example.com" in line]
    return [f"{row[1]} {row[2]}" for row in rows if len(row) == 4]


def test_seeds_once(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    upgrade(alembic_config(db_url))
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("SECURITY_PASSWORD_HASH_TIME_COST", "1")
    monkeypatch.setenv("SECURITY_PASSWORD_HASH_MEMORY_KIB", "1024")
    first = seed("--password", PASSWORD, "--users", "2")
    assert first.exit_code == 0, first.output
    assert said(first) == [
        "created  admin@example.com",
        "created  user1@example.com",
        "created  user2@example.com",
    ]
    again = seed("--password", PASSWORD, "--users", "3")
    assert again.exit_code == 0, again.output
    assert said(again) == [
        "created  user3@example.com",
        "present  admin@example.com",
        "present  user1@example.com",
        "present  user2@example.com",
    ]
    assert sorted(users()) == [
        "admin@example.com admin",
        "user1@example.com user",
        "user2@example.com user",
        "user3@example.com user",
    ]


def test_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENVIRONMENT", "production")
    result = seed("--password", PASSWORD)
    assert result.exit_code == 1
    assert result.stderr == "error: refusing to seed demo accounts in production\n"


@pytest.mark.parametrize(("password", "message"), [("short", "at least 8"), ("password123", "")])
def test_a_refused_password_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, password: str, message: str
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/seed.db"
    upgrade(alembic_config(url))
    monkeypatch.setenv("DATABASE_URL", url)
    result = seed("--password", password)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert len(result.stderr.splitlines()) == 1
