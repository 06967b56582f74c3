"""Reads without a transaction, and pooled connections checked only after sitting idle."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from example_service.db import engine as engine_module
from example_service.db.engine import (
    WriteInSafeRequestError,
    create_engine,
    create_read_session_factory,
    create_session_factory,
)
from example_service.settings import DatabaseSettings
from example_service.users.models import User
from tests.servers import PostgresServer


@pytest.fixture
def settings(db_url: str) -> DatabaseSettings:
    return DatabaseSettings(url=db_url)


@pytest.fixture
async def engine(settings: DatabaseSettings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings)
    try:
        yield engine
    finally:
        await engine.dispose()


async def in_transaction(session: AsyncSession) -> bool:
    """Whether the driver's connection is inside a transaction (a BEGIN was sent)."""
    raw = (await session.connection()).sync_connection.connection.driver_connection  # type: ignore[union-attr]
    if hasattr(raw, "is_in_transaction"):  # asyncpg
        return bool(raw.is_in_transaction())
    return bool(raw._conn.in_transaction)  # aiosqlite's sqlite3 connection


async def test_a_read_session_sends_no_begin(
    engine: AsyncEngine, settings: DatabaseSettings
) -> None:
    async with create_read_session_factory(engine, settings)() as session:
        assert (await session.execute(text("SELECT 1"))).scalar() == 1
        assert not await in_transaction(session)
    if not settings.is_sqlite:  # SQLite begins only before a write, in either session
        async with create_session_factory(engine)() as session:
            await session.execute(text("SELECT 1"))
            assert await in_transaction(session)


async def test_a_read_session_refuses_to_write(
    engine: AsyncEngine, settings: DatabaseSettings
) -> None:
    async with create_read_session_factory(engine, settings)() as session:
        session.add(User(id=uuid.uuid4(), email="x@example.com", hashed_password="x"))
        with pytest.raises(WriteInSafeRequestError):
            await session.flush()


@pytest.mark.postgres
async def test_an_idle_connection_is_checked_a_busy_one_is_not(
    postgres_server: PostgresServer,
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = create_engine(DatabaseSettings(url=postgres_url))
    pings = 0
    real_ping = engine.sync_engine.dialect.do_ping

    def counted(connection: object) -> bool:
        nonlocal pings
        pings += 1
        return real_ping(connection)  # type: ignore[arg-type]

    monkeypatch.setattr(engine.sync_engine.dialect, "do_ping", counted)
    database = postgres_url.rsplit("/", 1)[1]  # a name the test fixture made
    kill = (
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"  # noqa: S608 - no input here
        f" WHERE datname = '{database}' AND pid <> pg_backend_pid()"
    )
    try:
        for _ in range(3):  # in use a moment ago: no ping
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        assert pings == 0
        postgres_server.psql(kill, database)  # the server drops the pooled connection
        monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 0.0)  # now it sat idle
        async with engine.connect() as conn:  # found dead, replaced: the query succeeds
            assert (await conn.execute(text("SELECT 1"))).scalar() == 1
        assert pings == 1
    finally:
        await engine.dispose()
