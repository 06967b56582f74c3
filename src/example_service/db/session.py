"""One `AsyncSession` per request, opened on first use: committed once as the endpoint returns,
rolled back on error; for a GET or HEAD, read without a transaction and never committed.

A request the cache answers never touches the session, so it is never created: no session
object, no transaction, no commit, no breaker trial (`Db` gives the lazy handle; `DbSession`
the session itself, for routes that always need it). The session goes through the database's
breaker (`app.state.db_breaker`, see resilience/): while it is open, opening the session fails
at once with a 503 instead of waiting for a connect timeout; each request that used the
database records how it went.

Work that must follow a commit, never precede it (telling the cache a row changed), is
registered with `after_commit` and runs right after that transaction commits, before the
response is sent; if the transaction is rolled back instead, it never runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import SessionTransaction

from example_service.db.errors import counts_against_database
from example_service.resilience.breaker import CircuitBreaker

# Safe methods read only (RFC 9110 section 9.2.1): their session runs without a transaction
# (db/engine.py `create_read_session_factory`), so a read costs its query's round trip alone.
SAFE_METHODS = frozenset({"GET", "HEAD"})
AfterCommit = Callable[[], Awaitable[None]]
Pending = tuple[SessionTransaction, list[AfterCommit]]  # a transaction, what waits for it
_AFTER_COMMIT = "after_commit"


class RequestDb:
    """The request's database handle: `session` opens the session the first time it is read."""

    __slots__ = ("_breaker", "_factory", "opened")

    def __init__(self, factory: async_sessionmaker[AsyncSession], breaker: CircuitBreaker) -> None:
        self._factory = factory
        self._breaker = breaker
        self.opened: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        session = self.opened
        if session is None:
            self._breaker.check()
            session = self.opened = self._factory()
        return session


def after_commit(session: AsyncSession, callback: AfterCommit) -> None:
    """Run `callback` once the session's current transaction has committed; never if it is
    rolled back."""
    transaction = session.sync_session.get_transaction()
    if transaction is None:
        raise RuntimeError("after_commit needs the transaction that made the change")
    pending: Pending | None = session.info.get(_AFTER_COMMIT)
    if pending is None or pending[0] is not transaction:  # none yet, or a rolled-back one's
        pending = session.info[_AFTER_COMMIT] = (transaction, [])
    pending[1].append(callback)


async def commit(session: AsyncSession) -> None:
    """Commit, then run what waited for this transaction's commit."""
    transaction = session.sync_session.get_transaction()
    await session.commit()
    pending: Pending | None = session.info.pop(_AFTER_COMMIT, None)
    if pending is not None and pending[0] is transaction:
        for callback in pending[1]:
            await callback()


async def request_db(request: Request) -> AsyncIterator[RequestDb]:
    state = request.app.state
    read_only = request.scope["method"] in SAFE_METHODS
    factory = state.read_session_factory if read_only else state.session_factory
    db = RequestDb(factory, state.db_breaker)
    breaker: CircuitBreaker = state.db_breaker
    used = False
    try:
        yield db
        session = db.opened
        if session is not None and session.in_transaction():
            used = True  # a request that never queried proves nothing
            if not read_only:  # a read-only session has nothing to commit (db/engine.py)
                # Committed before the response is sent (scope="function" below): a failed
                # commit becomes an error response instead of a success the database never saw.
                await commit(session)
    except BaseException as exc:
        session = db.opened
        if session is None:
            raise
        if counts_against_database(exc):
            breaker.record_failure()
        elif used or session.in_transaction():
            breaker.record_success()  # the database answered; the error is the request's
        else:
            breaker.release()
        await _rollback(session)
        with contextlib.suppress(Exception):
            await session.close()
        raise
    session = db.opened
    if session is None:
        return
    if used:
        breaker.record_success()
    else:
        breaker.release()
    await session.close()


async def _rollback(session: AsyncSession) -> None:
    try:
        await session.rollback()
    except Exception:  # noqa: BLE001 - the connection may be gone: the original error matters
        with contextlib.suppress(Exception):
            await session.invalidate()


# scope="function": the exit code above runs when the endpoint returns, not after the response.
Db = Annotated[RequestDb, Depends(request_db, scope="function")]


async def get_session(db: Db) -> AsyncSession:
    return db.session


DbSession = Annotated[AsyncSession, Depends(get_session)]


def needs_database(dependant: Dependant) -> bool:
    """Whether a route (its `dependant`) may open a session: it can then answer 503."""
    return any(sub.call is request_db or needs_database(sub) for sub in dependant.dependencies)
