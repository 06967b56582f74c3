"""The request's session: opened on first use, work queued for after the commit."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from example_service.db.engine import create_engine, create_session_factory
from example_service.db.session import after_commit, commit
from example_service.settings import DatabaseSettings
from tests.identity import Api


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


async def test_a_cached_read_is_served_while_the_database_breaker_is_open(cached_api: Api) -> None:
    alice = await cached_api.account("alice@example.com")
    bob = await cached_api.account("bob@example.com")
    url = f"/api/v1/users/{alice.id}"
    for _ in range(2):
        assert (await cached_api.client.get(url, headers=alice.auth)).status_code == 200
    breaker = cached_api.app.state.db_breaker
    for _ in range(breaker.failure_threshold):
        breaker.record_failure()
    # The cache answers: the request opens no session, so the open breaker is not in its way.
    assert (await cached_api.client.get(url, headers=alice.auth)).status_code == 200
    refused = await cached_api.client.get(f"/api/v1/users/{bob.id}", headers=bob.auth)
    assert refused.status_code == 503 and "retry-after" in refused.headers
