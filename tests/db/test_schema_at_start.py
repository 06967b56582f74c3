"""The schema against the code at start and on readiness, on SQLite and PostgreSQL.

Behind: production refuses to start naming `example-service db upgrade` (serve and gunicorn
alike), local development upgrades its own SQLite file, and readiness answers 503 `behind`.
Ahead (a newer release migrated): the service starts and readiness says `ahead`, still 200.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic.script import ScriptDirectory
from asgi_lifespan import LifespanManager
from sqlalchemy import text

from example_service.app import create_app
from example_service.db.engine import create_engine
from example_service.db.migrate import alembic_config, downgrade, upgrade
from example_service.db.schema import SchemaBehindError, Script, behind_message
from example_service.settings import AppSettings, DatabaseSettings, Settings
from tests.conftest import SettingsFactory
from tests.identity import JWT_SECRET, security_settings
from tests.servers import PROJECT_PREFIXES, free_port, serve_process
from tests.serving.gunicorn import gunicorn_command, gunicorn_env


def _previous() -> str:
    """The revision before the head, where a database one release behind is: "base" (no
    revision at all) when the head is the first."""
    scripts = ScriptDirectory.from_config(alembic_config())
    head = scripts.get_revision(scripts.get_current_head())
    assert head is not None
    return str(head.down_revision) if head.down_revision else "base"


OLDER = _previous()
AT_OLDER = [] if OLDER == "base" else [OLDER]  # what alembic_version then holds
NEWER = "9999_from_a_newer_release"
READY = "/api/v1/health/ready"


def _older(url: str) -> None:
    upgrade(alembic_config(url), OLDER)


async def _revision(url: str) -> list[str]:
    engine = create_engine(DatabaseSettings(url=url))
    try:
        async with engine.connect() as connection:
            found = await connection.execute(text("SELECT version_num FROM alembic_version"))
            return [str(revision) for revision in found.scalars()]
    finally:
        await engine.dispose()


async def _stamp(url: str, revision: str) -> None:
    engine = create_engine(DatabaseSettings(url=url))
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text("UPDATE alembic_version SET version_num = :v"), {"v": revision}
            )
    finally:
        await engine.dispose()


def _env(url: str, environment: str) -> dict[str, str]:
    return {
        "APP_ENVIRONMENT": environment,
        "DATABASE_URL": url,
        "LOG_LEVEL": "WARNING",
        "SECURITY_JWT_SECRET": JWT_SECRET,
    }


def _serve(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(PROJECT_PREFIXES)}
    return subprocess.run(
        [sys.executable, "-m", "example_service", "serve", "--port", str(free_port())],
        cwd=tmp_path,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_refuses_a_schema_behind_the_code(db_url: str, tmp_path: Path) -> None:
    _older(db_url)
    refused = _serve(tmp_path, _env(db_url, "production"))
    assert refused.returncode == 1
    expected = behind_message(AT_OLDER, Script.load())
    assert f"error: {expected}\n" in refused.stderr
    assert "run `example-service db upgrade`" in expected


def test_gunicorn_in_production_refuses_it_too(db_url: str, tmp_path: Path) -> None:
    _older(db_url)
    refused = subprocess.run(
        gunicorn_command(free_port()),
        cwd=tmp_path,
        env=gunicorn_env(_env(db_url, "production")),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 1
    assert f"Error: {behind_message(AT_OLDER, Script.load())}" in refused.stderr


def test_local_development_upgrades_its_sqlite_file_and_nothing_else(
    db_url: str, tmp_path: Path
) -> None:
    _older(db_url)
    env = _env(db_url, "local")
    head = sorted(Script.load().heads)
    if db_url.startswith("sqlite"):
        with serve_process(tmp_path, env) as served:
            ready = httpx.get(served.base + READY, timeout=5)
        assert ready.status_code == 200
        assert ready.json()["checks"]["schema"]["detail"] == "head"
        assert asyncio.run(_revision(db_url)) == head
    else:
        # A PostgreSQL database may be shared: migrating it is an explicit step, even locally.
        refused = _serve(tmp_path, env)
        assert refused.returncode == 1
        assert "run `example-service db upgrade`" in refused.stderr
        assert asyncio.run(_revision(db_url)) == AT_OLDER


@asynccontextmanager
async def _running(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client


def _schema(body: dict[str, Any]) -> dict[str, Any]:
    return dict(body["checks"]["schema"])


def _settings(make_settings: SettingsFactory, url: str, environment: str) -> Settings:
    return make_settings(
        app=AppSettings(environment=environment),  # type: ignore[arg-type]
        database=DatabaseSettings(url=url),
        security=security_settings(),
    )


async def test_readiness_follows_the_schema(
    migrated_url: str, make_settings: SettingsFactory
) -> None:
    async with _running(_settings(make_settings, migrated_url, "staging")) as client:
        at_head = await client.get(READY)
        assert at_head.status_code == 200
        assert _schema(at_head.json()) == {
            "status": "ok",
            "required": True,
            "breaker": None,
            "probe": "ok",
            "detail": "head",
        }
        await asyncio.to_thread(downgrade, alembic_config(migrated_url), OLDER)
        behind = await client.get(READY)
        assert behind.status_code == 503
        assert behind.json()["status"] == "unavailable"
        assert _schema(behind.json())["status"] == "unavailable"
        assert _schema(behind.json())["detail"] == "behind"
        assert behind.json()["checks"]["db"]["status"] == "ok"  # the database itself answers
        await asyncio.to_thread(upgrade, alembic_config(migrated_url))
        assert (await client.get(READY)).status_code == 200


async def test_production_serves_a_schema_a_newer_release_migrated(
    migrated_url: str, make_settings: SettingsFactory
) -> None:
    await _stamp(migrated_url, NEWER)
    async with _running(_settings(make_settings, migrated_url, "production")) as client:
        ready = await client.get(READY)
    assert ready.status_code == 200
    assert ready.json()["status"] == "degraded"
    assert _schema(ready.json())["status"] == "degraded"
    assert _schema(ready.json())["detail"] == "ahead"


async def test_production_lifespan_refuses_without_serve(
    db_url: str, make_settings: SettingsFactory
) -> None:
    """The check is the app's, not only `serve`'s: a server started any other way refuses."""
    await asyncio.to_thread(_older, db_url)
    with pytest.raises(SchemaBehindError, match="example-service db upgrade"):
        async with _running(_settings(make_settings, db_url, "production")):
            pass
