"""The request's session: opened on first use, work queued for after the commit."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from example_service.db.engine import create_engine, create_session_factory
from example_service.db.session import after_commit, commit
from example_service.settings import DatabaseSettings


async def test_after_commit_work_runs_after_a_commit_only(tmp_path: Path) -> None:
    engine = create_engine(DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path}/s.db"))
    ran: list[str] = []

    async def note(what: str) -> None:
        ran.append(what)

    try:
        async with create_session_factory(engine)() as session:
            await session.execute(text("CREATE TABLE t (x INTEGER)"))
            after_commit(session, lambda: note("dropped"))
            await session.rollback()  # a failed request: what waited for its commit never runs
            await session.execute(text("INSERT INTO t VALUES (1)"))
            after_commit(session, lambda: note("committed"))
            assert ran == []  # not before the commit
            await commit(session)
            await commit(session)  # once only
    finally:
        await engine.dispose()
    assert ran == ["committed"]

