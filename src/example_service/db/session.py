"""Database sessions: the request's own, and short read sessions beside it.

`DbSession` is the request's session: committed once as the endpoint returns, rolled back on
error. For a GET or HEAD it reads without a transaction and is never committed (a safe method
reads only: RFC 9110 section 9.2.1; db/engine.py `create_read_session_factory`), so a read
costs its query's round trip alone; a session that never queried is not committed either.

`read_session(state)` is a read-only session for one block, closed (its connection back in the
pool) as soon as the block ends: authentication and the cached reads use it on a cache miss, so
a request the cache answers declares no session at all (FastAPI's dependency with a teardown is
the dearest kind: ~30 us a request, measured) and opens none.

Both go through the database's breaker (`app.state.db_breaker`, see resilience/): while it is
open, opening a session fails at once with a 503 instead of waiting for a connect timeout; each
session that queried records how it went.

Work that must follow a commit, never precede it (telling the cache a row changed), is
registered with `after_commit` and runs right after that transaction commits, before the
response is sent; if the transaction is rolled back instead, it never runs.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import SessionTransaction

from example_service.db.errors import counts_against_database
from example_service.resilience.breaker import CircuitBreaker

SAFE_METHODS = frozenset({"GET", "HEAD"})
AfterCommit = Callable[[], Awaitable[None]]
Pending = tuple[SessionTransaction, list[AfterCommit]]  # a transaction, what waits for it
_AFTER_COMMIT = "after_commit"
F = TypeVar("F", bound=Callable[..., Any])
_USES_DATABASE = "uses_database"


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


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    state = request.app.state
    breaker: CircuitBreaker = state.db_breaker
    read_only = request.scope["method"] in SAFE_METHODS
    breaker.check()
    factory = state.read_session_factory if read_only else state.session_factory
    async with factory() as session:
        used = False
        try:
            yield session
            used = session.in_transaction()  # a request that never queried proves nothing
            if used and not read_only:
                # Committed before the response is sent (scope="function" below): a failed
                # commit becomes an error response instead of a success the database never saw.
                await commit(session)
        except BaseException as exc:
            _failed(breaker, exc, answered=used or session.in_transaction())
            await _rollback(session)
            raise
        _succeeded(breaker, used=used)


@contextlib.asynccontextmanager
async def read_session(state: Any) -> AsyncIterator[AsyncSession]:
    """A read-only session (app `state`'s factory and breaker) for the block, closed after it."""
    breaker: CircuitBreaker = state.db_breaker
    breaker.check()
    async with state.read_session_factory() as session:
        try:
            yield session
        except BaseException as exc:
            _failed(breaker, exc, answered=session.in_transaction())
            raise
        _succeeded(breaker, used=session.in_transaction())


def _failed(breaker: CircuitBreaker, exc: BaseException, *, answered: bool) -> None:
    if counts_against_database(exc):
        breaker.record_failure()
    elif answered:
        breaker.record_success()  # the database answered; the error is the request's
    else:
        breaker.release()


def _succeeded(breaker: CircuitBreaker, *, used: bool) -> None:
    if used:
        breaker.record_success()
    else:
        breaker.release()


async def _rollback(session: AsyncSession) -> None:
    try:
        await session.rollback()
    except Exception:  # noqa: BLE001 - the connection may be gone: the original error matters
        with contextlib.suppress(Exception):
            await session.invalidate()


# scope="function": the exit code above runs when the endpoint returns, not after the response.
DbSession = Annotated[AsyncSession, Depends(get_session, scope="function")]


def uses_database(dependency: F) -> F:
    """Mark a dependency that opens a `read_session` (its routes can answer 503)."""
    setattr(dependency, _USES_DATABASE, True)
    return dependency


def needs_database(dependant: Dependant) -> bool:
    """Whether a route (its `dependant`) may open a session: it can then answer 503."""
    return any(
        sub.call is get_session or getattr(sub.call, _USES_DATABASE, False) or needs_database(sub)
        for sub in dependant.dependencies
    )
