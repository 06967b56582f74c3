"""scripts/pg_backup.py: a pg_dump / pg_restore round trip on the real PostgreSQL server."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from example_service.db.engine import create_engine
from example_service.db.schema import Script
from example_service.settings import DatabaseSettings
from tests.scripts.loading import load_script, run_script
from tests.servers import free_port, pg_bindir

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "pg_backup.py"
BIN = Path(sys.executable).parent / "example-service"
[HEAD] = Script.load().heads  # the revision a fresh `db upgrade` leaves
SNAPSHOT = (
    "SELECT id, email, full_name, hashed_password, role, is_active, token_version, created_at,"
    " updated_at FROM users ORDER BY email",
    "SELECT id, user_id, name, prefix, key_hash, revoked_at FROM api_keys ORDER BY name",
    "SELECT version_num FROM alembic_version",
)


def sql(url: str, *statements: str) -> list[list[tuple[object, ...]]]:
    async def go() -> list[list[tuple[object, ...]]]:
        engine = create_engine(DatabaseSettings(url=url))
        try:
            async with engine.begin() as conn:
                results = []
                for statement in statements:
                    result = await conn.execute(text(statement))
                    results.append([tuple(row) for row in result] if result.returns_rows else [])
                return results
        finally:
            await engine.dispose()

    return asyncio.run(go())


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_script(SCRIPT, *args, "--pg-bindir", str(pg_bindir()), timeout=120)


def seed(url: str) -> None:
    subprocess.run(
        [str(BIN), "db", "upgrade"],
        env={**os.environ, "DATABASE_URL": url},
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    sql(
        url,
        "INSERT INTO users (id, email, full_name, hashed_password, role, is_active,"
        " token_version, created_at, updated_at) SELECT gen_random_uuid(),"
        " 'user' || n || '@example.com', 'User Ünïcode ' || n, '$argon2id$hash' || n, 'user',"
        " n <> 1, n, timestamptz '2026-11-01T10:00:00.123456+00:00' + n * interval '1 day',"
        " now() FROM generate_series(0, 2) AS n",
        "INSERT INTO api_keys (id, user_id, name, prefix, key_hash, created_at, updated_at)"
        " SELECT gen_random_uuid(), id, 'ci', 'es_abc', 'deadbeef', now(), now()"
        " FROM users WHERE email = 'user0@example.com'",
    )


def test_round_trip(postgres_url: str, tmp_path: Path) -> None:
    seed(postgres_url)
    before = sql(postgres_url, *SNAPSHOT)
    assert len(before[0]) == 3 and len(before[1]) == 1 and before[2] == [(HEAD,)]

    backup = tmp_path / "nightly.dump"
    made = run("backup", "--url", postgres_url, "--out", str(backup))
    assert made.returncode == 0, made.stderr
    assert backup.read_bytes().startswith(b"PGDMP")  # pg_dump's custom format
    assert [p.name for p in tmp_path.iterdir()] == ["nightly.dump"]

    sql(
        postgres_url,
        "DELETE FROM users WHERE email = 'user0@example.com'",  # its API key goes with it
        "UPDATE users SET email = 'changed@example.com', token_version = 99"
        " WHERE email = 'user1@example.com'",
        "INSERT INTO users (id, email, full_name, hashed_password, role, is_active,"
        " token_version, created_at, updated_at) VALUES (gen_random_uuid(),"
        " 'intruder@example.com', 'x', 'x', 'admin', true, 0, now(), now())",
        "DROP TABLE auth_sessions",
        "UPDATE alembic_version SET version_num = 'broken'",
    )
    assert sql(postgres_url, *SNAPSHOT) != before

    restored = run("restore", "--url", postgres_url, "--input", str(backup))
    assert restored.returncode == 0, restored.stderr
    assert sql(postgres_url, *SNAPSHOT) == before
    assert sql(postgres_url, "SELECT count(*) FROM auth_sessions") == [[(0,)]]


def test_a_failed_restore_changes_nothing(postgres_url: str, tmp_path: Path) -> None:
    seed(postgres_url)
    backup = tmp_path / "b.dump"
    assert run("backup", "--url", postgres_url, "--out", str(backup)).returncode == 0
    sql(postgres_url, "UPDATE users SET full_name = 'after the backup'")
    after = sql(postgres_url, *SNAPSHOT)
    data = backup.read_bytes()
    backup.write_bytes(data[: len(data) // 2])  # truncated: pg_restore fails part way

    result = run("restore", "--url", postgres_url, "--input", str(backup))
    assert result.returncode == 1
    assert result.stderr.startswith("pg_backup: error: pg_restore failed: ")
    assert len(result.stderr.splitlines()) == 1
    assert sql(postgres_url, *SNAPSHOT) == after


def test_a_failed_backup_leaves_no_file(tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://postgres:pw@127.0.0.1:{free_port()}/nothing"
    out = tmp_path / "b.dump"
    result = run("backup", "--url", url, "--out", str(out))
    assert result.returncode == 1
    assert result.stderr.startswith("pg_backup: error: pg_dump failed: ")
    assert "Traceback" not in result.stderr and "pw" not in result.stderr
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("url", "target", "env"),
    [
        (
            "postgresql+asyncpg://app:s%40cret@db.internal:5432/svc?ssl=require",
            "postgresql://app@db.internal:5432/svc?sslmode=require",
            {"PGPASSWORD": "s@cret"},
        ),
        ("postgresql://app@[::1]/svc", "postgresql://app@[::1]/svc", {}),
        ("postgres://h/svc?connect_timeout=5", "postgresql://h/svc?connect_timeout=5", {}),
    ],
)
def test_the_password_leaves_the_command_line(url: str, target: str, env: dict[str, str]) -> None:
    assert load_script("pg_backup").libpq_target(url) == (target, env)


def test_refuses_other_databases() -> None:
    module = load_script("pg_backup")
    with pytest.raises(module.BackupError, match="not a PostgreSQL URL"):
        module.libpq_target("sqlite+aiosqlite:///var/app.db")
