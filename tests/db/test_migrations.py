"""Migrations upgrade and downgrade cleanly on SQLite and PostgreSQL, and match the models."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from example_service.db.engine import create_engine
from example_service.db.migrate import alembic_config, downgrade, upgrade
from example_service.db.models import load_models
from example_service.settings import DatabaseSettings

TABLES = {"users", "auth_sessions", "api_keys"}


def tables(url: str) -> set[str]:
    async def run() -> set[str]:
        engine = create_engine(DatabaseSettings(url=url))
        try:
            async with engine.connect() as conn:
                return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        finally:
            await engine.dispose()

    return asyncio.run(run())


def drift(url: str) -> list[object]:
    def compare(conn: Connection) -> list[object]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, load_models()))

    async def run() -> list[object]:
        engine = create_engine(DatabaseSettings(url=url))
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(compare)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_upgrade_downgrade_upgrade(db_url: str) -> None:
    config = alembic_config(db_url)
    upgrade(config)
    assert tables(db_url) >= TABLES | {"alembic_version"}
    assert drift(db_url) == []
    downgrade(config, "base")
    assert not tables(db_url) & TABLES
    upgrade(config)
    assert tables(db_url) >= TABLES
