"""Engine and session factory, built from settings by the lifespan (never at import time)."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session
from sqlalchemy.pool import ConnectionPoolEntry

from example_service.settings import DatabaseSettings

PING_AFTER_IDLE_SECONDS = 1.0
_RETURNED_AT = "returned_at"


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    database = parsed.database
    if not parsed.drivername.startswith("sqlite") or not database or database == ":memory:":
        return None
    return Path(database)


def create_engine(settings: DatabaseSettings) -> AsyncEngine:
    url = settings.url.get_secret_value()
    # Not `echo=True`: that attaches SQLAlchemy's own handler; the level routes statements
    # through the JSON log pipeline instead.
    logging.getLogger("sqlalchemy.engine").setLevel(
        logging.INFO if settings.echo else logging.WARNING
    )
    # hide_parameters: a failed statement's message (and so a logged traceback) never lists the
    # bound values, which are users' e-mails, names and password hashes.
    kwargs: dict[str, Any] = {"hide_parameters": True}
    sqlite_file = _sqlite_file(url)
    if settings.is_sqlite:
        if sqlite_file is not None:
            sqlite_file.parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": settings.pool_timeout_seconds}
    else:
        kwargs.update(
            pool_size=settings.pool_size,
            max_overflow=settings.max_overflow,
            pool_timeout=settings.pool_timeout_seconds,
            pool_recycle=1800,
        )
        if make_url(url).get_driver_name() == "asyncpg":
            # A server that does not answer (down, or a network that drops packets) costs a
            # request the connect timeout, not asyncpg's default minute; a statement stuck on
            # a lock ends server-side. Both surface as a 503 (db/errors.py).
            kwargs["connect_args"] = {
                "timeout": settings.connect_timeout_seconds,
                "server_settings": {
                    "statement_timeout": str(int(settings.statement_timeout_seconds * 1000))
                },
            }
    engine = create_async_engine(url, **kwargs)
    if settings.is_sqlite:
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    else:  # a local file does not go away: nothing to ping
        _ping_idle_connections(engine.sync_engine)
    return engine


def _ping_idle_connections(engine: Engine) -> None:
    """Check a pooled connection before use when it sat idle `PING_AFTER_IDLE_SECONDS`.

    A server restart or a dropped idle connection is then found before a request uses the
    connection, while a busy pool pays nothing. SQLAlchemy's `pool_pre_ping` checks every
    checkout: on PostgreSQL three round trips (BEGIN, an empty query, ROLLBACK) before each
    request's one query. A connection that dies in use fails its request (a 503), and
    SQLAlchemy then recycles every connection the pool held.
    """
    dialect = engine.dialect

    def returned(_dbapi: Any, record: ConnectionPoolEntry) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    def checkout(dbapi: DBAPIConnection, record: ConnectionPoolEntry, _proxy: Any) -> None:
        returned_at = record.info.get(_RETURNED_AT)
        if returned_at is None or time.monotonic() - returned_at < PING_AFTER_IDLE_SECONDS:
            return  # just opened, or in use a moment ago
        try:
            alive = dialect.do_ping(dbapi)
        except Exception as exc:
            # The pool discards the connection and checks out another (a new one if need be).
            raise DisconnectionError(str(exc)) from exc
        if not alive:
            raise DisconnectionError("the connection did not answer a ping")

    event.listen(engine, "checkin", returned)
    event.listen(engine, "checkout", checkout)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # Foreign keys are off by default in SQLite; WAL lets readers run beside one writer.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


class ReadSession(Session):
    """The session of a safe request (GET, HEAD): it reads without a transaction, never writes."""


class WriteInSafeRequestError(RuntimeError):
    pass


def _refuse_writes(session: Session, _context: Any, _instances: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise WriteInSafeRequestError(
            "a GET or HEAD request may not write: its session runs without a transaction"
        )


def create_read_session_factory(
    engine: AsyncEngine, settings: DatabaseSettings
) -> async_sessionmaker[AsyncSession]:
    """Sessions for safe requests: no BEGIN, no COMMIT, so a read is its query's round trip.

    On PostgreSQL in autocommit (each statement its own snapshot, as a transaction of one
    statement would be). SQLite already starts no transaction for a SELECT, and switching its
    isolation level costs a trip to aiosqlite's thread each way, so its engine is used as is.
    """
    if not event.contains(ReadSession, "before_flush", _refuse_writes):
        event.listen(ReadSession, "before_flush", _refuse_writes)
    bind = engine if settings.is_sqlite else engine.execution_options(isolation_level="AUTOCOMMIT")
    return async_sessionmaker(
        bind, expire_on_commit=False, autoflush=False, sync_session_class=ReadSession
    )
