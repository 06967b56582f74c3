"""`example-service db ...` and `users ...` against a real SQLite file and PostgreSQL."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from example_service.cli import build_cli
from example_service.db.migrate import script_location
from example_service.db.schema import Script


def run(args: list[str], **kwargs: object) -> tuple[int, str]:
    result = CliRunner().invoke(build_cli(), args, catch_exceptions=False, **kwargs)  # type: ignore[arg-type]
    return result.exit_code, result.output


@pytest.fixture
def database(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("SECURITY_PASSWORD_HASH_MEMORY_KIB", "1024")
    monkeypatch.setenv("SECURITY_PASSWORD_HASH_TIME_COST", "1")
    return db_url


def test_db_and_users_commands(database: str) -> None:
    code, _ = run(["db", "upgrade"])
    assert code == 0
    code, out = run(["db", "current"])
    [head] = Script.load().heads
    assert code == 0 and f"{head} (head)" in out

    code, out = run(
        ["users", "create-admin", "--email", "Root@Example.com", "--password", "s3cret-password"]
    )
    assert code == 0 and "created admin root@example.com" in out
    code, out = run(
        ["users", "create-admin", "--email", "root@example.com"], input="pw12345678\npw12345678\n"
    )
    assert code == 1 and "already exists" in out
    code, out = run(["users", "create-admin", "--email", "x@example.com", "--password", "short"])
    assert code == 2 and "password" in out
    code, out = run(["users", "create-admin", "--email", "y@example.com", "--password", "admin123"])
    assert code == 1 and "too common" in out

    code, out = run(["users", "list"])
    assert code == 0
    assert "root@example.com  admin  active" in out and "1 of 1 users" in out
    assert "argon2" not in out

    code, _ = run(["db", "downgrade", "base"])
    assert code == 0
    code, out = run(["db", "current"])
    assert code == 0 and "0001" not in out


def test_revision_autogenerate_finds_no_changes(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A copy of the scripts, so the generated revision does not land in the repository.
    copy = tmp_path / "migrations"
    shutil.copytree(script_location(), copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr("example_service.db.migrate.script_location", lambda: copy)
    assert run(["db", "upgrade"])[0] == 0
    code, _ = run(["db", "revision", "-m", "no drift", "--autogenerate"])
    assert code == 0
    (generated,) = (copy / "versions").glob("*no_drift.py")
    upgrade_body = generated.read_text().split("def upgrade() -> None:")[1].split("def ")[0]
    statements = [
        line.strip()
        for line in upgrade_body.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    assert statements == ["pass"]
