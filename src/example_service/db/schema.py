"""The database schema against the code's migrations: checked once at start, then by readiness.

The database is at the head (the code's latest revision), behind (an older revision, or none:
a request may need a table or column that is not there yet, and answer 500), or ahead (a
revision these scripts do not know: a newer release has migrated it).

At start (`startup_policy`):
- behind, on the embedded SQLite database in the local environment: upgraded to the head. That
  file belongs to one developer and nothing else shares it, so there is nothing to coordinate,
  and the first `serve` after pulling new code just works (`make run` ran the upgrade as well).
- behind, anywhere else (production, staging, a shared or containerised database in local
  development): the service refuses to start and names `example-service db upgrade`. A
  deployment migrates in one place (a migrate job), under its own control and locks, before
  the new code serves; several replicas racing to run DDL at boot is how a rollout breaks.
- ahead: the service starts and warns. A rolling deploy runs the old release against the
  schema the new one has migrated; its migrations are additive (expand, then contract a release
  later), so the old code keeps working, and refusing would turn every rollout into an outage.
  Readiness says `ahead`, `degraded` (still 200), until the old release is gone.
- the test environment: neither, the suite owns its schemas (it creates, migrates and
  downgrades them per test).

Readiness compares the database's revision with the head read from the scripts at start: one
SELECT on `alembic_version` per call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import column, select, table
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from example_service.db.engine import create_engine
from example_service.health.probes import Check, Dependency, Finding
from example_service.observability.logging import get_logger
from example_service.settings import Settings
from example_service.settings.base import Environment

State = Literal["head", "behind", "ahead"]
Policy = Literal["upgrade", "refuse", "skip"]
UPGRADE_COMMAND = "example-service db upgrade"

# Alembic's default version table, read directly: MigrationContext.get_current_heads() first
# asks the catalogue whether the table exists, a second query on every readiness call.
_VERSIONS = table("alembic_version", column("version_num"))


class SchemaBehindError(RuntimeError):
    """The database is older than the code: the message names the command that fixes it."""


@dataclass(frozen=True, slots=True)
class Script:
    """The revisions the code's migration scripts know, read once (a parse of every script)."""

    heads: frozenset[str]
    known: frozenset[str]

    @classmethod
    def load(cls) -> Script:
        # Alembic is imported only where the schema is checked: not in the test environment.
        from alembic.script import ScriptDirectory  # noqa: PLC0415

        from example_service.db.migrate import alembic_config  # noqa: PLC0415

        scripts = ScriptDirectory.from_config(alembic_config())
        return cls(
            heads=frozenset(scripts.get_heads()),
            known=frozenset(revision.revision for revision in scripts.walk_revisions()),
        )

    def state(self, current: Iterable[str]) -> State:
        revisions = set(current)
        if revisions == self.heads:
            return "head"
        return "ahead" if revisions - self.known else "behind"


def startup_policy(settings: Settings) -> Policy:
    environment = settings.app.environment
    if environment is Environment.TEST:
        return "skip"
    if environment is Environment.LOCAL and settings.database.is_sqlite:
        return "upgrade"
    return "refuse"


def behind_message(current: Iterable[str], script: Script) -> str:
    at = ", ".join(sorted(current)) or "no revision"
    return (
        f"the database schema is behind the code (database at {at}, code at "
        f"{', '.join(sorted(script.heads))}): run `{UPGRADE_COMMAND}`"
    )


def _current(connection: Connection) -> tuple[str, ...]:
    from alembic.migration import MigrationContext  # noqa: PLC0415 - see Script.load

    return tuple(MigrationContext.configure(connection).get_current_heads())


def _upgrade(connection: Connection) -> None:
    from example_service.db.migrate import alembic_config, upgrade  # noqa: PLC0415

    upgrade(alembic_config(connection=connection))


async def prepare(engine: AsyncEngine, settings: Settings, script: Script) -> State:
    """The schema's state at start, after upgrading it where `startup_policy` says so.

    Raises SchemaBehindError where the service must not start.
    """
    async with engine.connect() as connection:
        current = await connection.run_sync(_current)
        state = script.state(current)
        if state != "behind":
            return state
        if startup_policy(settings) != "upgrade":
            raise SchemaBehindError(behind_message(current, script))
        await connection.run_sync(_upgrade)
        await connection.commit()
        upgraded = await connection.run_sync(_current)
    get_logger("example_service.db").info(
        "db.schema_upgraded", previous=sorted(current), current=sorted(upgraded)
    )
    return script.state(upgraded)


_FINDINGS: dict[State, Finding] = {
    "head": Finding("head", "ok"),
    # Required: a request may need what the database does not have yet.
    "behind": Finding("behind", "unavailable"),
    # Serving: the newer release's migrations keep the old code working (see above).
    "ahead": Finding("ahead", "degraded"),
}


def schema_check(engine: AsyncEngine, script: Script) -> Check:
    async def check() -> Finding:
        async with engine.connect() as connection:
            rows = await connection.execute(select(_VERSIONS.c.version_num))
            return _FINDINGS[script.state(row[0] for row in rows)]

    return check


async def check_schema(settings: Settings, engine: AsyncEngine) -> list[Dependency]:
    """At start: refuse or upgrade a schema behind the code; then readiness watches it (the
    dependency returned)."""
    if startup_policy(settings) == "skip":
        return []
    logger = get_logger("example_service.db")
    script = Script.load()
    try:
        state = await prepare(engine, settings, script)
    except (OSError, SQLAlchemyError) as exc:
        # The database down at start does not stop the service, as before this check: readiness
        # reports it, and the schema too once it answers, before any traffic is sent here.
        logger.warning("db.schema_unchecked", error=type(exc).__name__)
    else:
        if state == "ahead":
            logger.warning(
                "db.schema_ahead",
                detail="the database has a revision this code does not know: a newer release "
                "migrated it; serving on, as a rolling deploy does",
                code_head=sorted(script.heads),
            )
    return [Dependency("schema", schema_check(engine, script), required=True)]


def preflight(settings: Settings) -> str | None:
    """`check_schema`'s start decision, made once by a parent process before its workers start
    (each then finds the schema at head): the refusal's message, or None.

    A local SQLite file is upgraded here, so several workers never race to migrate it.
    """

    async def run() -> str | None:
        engine = create_engine(settings.database)
        try:
            await prepare(engine, settings, Script.load())
        except SchemaBehindError as exc:
            return str(exc)
        except (OSError, SQLAlchemyError):
            return None  # each worker warns and readiness reports it (see check_schema)
        finally:
            await engine.dispose()
        return None

    if startup_policy(settings) == "skip":
        return None
    return asyncio.run(run())
