"""One `AsyncSession` per request: committed once as the endpoint returns, rolled back on error.

The session goes through the database's breaker (`app.state.db_breaker`, see resilience/):
while it is open a request fails at once with a 503 instead of waiting for a connect timeout;
each request that used the database records how it went.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from sqlalchemy.ext.asyncio import AsyncSession

from example_service.db.errors import counts_against_database
from example_service.resilience.breaker import CircuitBreaker


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    state = request.app.state
    breaker: CircuitBreaker = state.db_breaker
    breaker.check()
    async with state.session_factory() as session:
        try:
            yield session
            used = session.in_transaction()  # a request that never queried proves nothing
            # Committed before the response is sent (scope="function" below): a failed commit
            # becomes an error response instead of a success the database never saw.
            await session.commit()
        except BaseException as exc:
            if counts_against_database(exc):
                breaker.record_failure()
            elif session.in_transaction():
                breaker.record_success()  # the database answered; the error is the request's
            else:
                breaker.release()
            await _rollback(session)
            raise
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


def needs_database(dependant: Dependant) -> bool:
    """Whether a route (its `dependant`) opens a session: it can then answer 503."""
    return any(sub.call is get_session or needs_database(sub) for sub in dependant.dependencies)
