"""`example-service config check`: whether this environment can run the service, every problem
named on a line of its own.

Checked: the settings load and are safe for their environment (production refuses what
startup refuses), the database answers and is at the migrations' head, the other servers
configured answer. Nothing is created: a missing SQLite file is reported, not made.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.engine import make_url

from example_service.cli.errors import each_problem
from example_service.settings import Settings, SettingsError

Check = Callable[[Settings], Awaitable[tuple[str, list[str]]]]


def load() -> tuple[Settings | None, list[str]]:
    try:
        settings = Settings.load()
    except ValidationError as exc:
        return None, [f"settings: {problem}" for problem in each_problem(exc)]
    problems = []
    if settings.app.is_production:  # each unsafe value named, not only the first
        problems = [f"settings: {problem}" for problem in settings.unsafe_for_production()]
    try:
        settings.check()
    except SettingsError as exc:
        if not problems:
            problems.append(f"settings: {exc}")
    return settings, problems


def missing_sqlite_file(settings: Settings) -> str | None:
    url = make_url(settings.database.url.get_secret_value())
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return None if Path(url.database).is_file() else url.database


async def database(settings: Settings) -> tuple[str, list[str]]:
    from alembic.migration import MigrationContext  # noqa: PLC0415
    from alembic.script import ScriptDirectory  # noqa: PLC0415

    from example_service.db.engine import create_engine  # noqa: PLC0415
    from example_service.db.migrate import alembic_config  # noqa: PLC0415

    url = make_url(settings.database.url.get_secret_value())
    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    engine = create_engine(settings.database)
    try:
        async with engine.connect() as connection:
            current = set(
                await connection.run_sync(
                    lambda sync: MigrationContext.configure(sync).get_current_heads()
                )
            )
    except Exception as exc:  # noqa: BLE001 - whatever it is, it is the answer to report
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return "", [f"database: unreachable: {type(exc).__name__}: {first}"]
    finally:
        await engine.dispose()
    if current != heads:
        at = ", ".join(sorted(current)) or "no revision"
        return "", [
            f"database: at {at}, the head is {', '.join(sorted(heads))}: "
            "run `example-service db upgrade`"
        ]
    return f"database: {url.get_backend_name()}, at {', '.join(sorted(heads))}", []


# part: redis
async def redis(settings: Settings) -> tuple[str, list[str]]:
    from example_service.redis.client import create_redis  # noqa: PLC0415
    from example_service.resilience.errors import BackendUnavailable  # noqa: PLC0415

    layer = create_redis(settings.redis)
    if layer is None:
        return "redis: not configured (in-process backends)", []
    try:
        await layer.ping()
    except BackendUnavailable as exc:
        return "", [f"redis: unreachable: {exc}"]
    finally:
        await layer.client.aclose()
    return "redis: answers", []


# end part: redis


def run() -> tuple[list[str], list[str]]:
    """What is fine and what is not, one line each."""
    settings, problems = load()
    if settings is None:
        return [], problems
    fine = [f"settings: {settings.app.environment} environment"] if not problems else []

    async def services() -> None:
        missing = missing_sqlite_file(settings)
        checks: list[Check] = [] if missing else [database]
        # part: redis
        checks.append(redis)
        # end part: redis
        if missing:
            problems.append(f"database: {missing} does not exist: run `example-service db upgrade`")
        for check in checks:
            ok, found = await check(settings)
            fine.extend([ok] if ok else [])
            problems.extend(found)

    asyncio.run(services())
    return fine, problems
