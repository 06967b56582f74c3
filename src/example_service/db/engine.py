"""Engine and session factory, built from settings by the lifespan (never at import time)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from example_service.settings import DatabaseSettings


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
    kwargs: dict[str, Any] = {"pool_pre_ping": True, "hide_parameters": True}
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
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # Foreign keys are off by default in SQLite; WAL lets readers run beside one writer.
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
