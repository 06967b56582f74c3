"""One `AsyncSession` per request: committed once as the endpoint returns, rolled back on error."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.session_factory() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        # Committed before the response is sent (scope="function" below): a failed commit
        # becomes an error response instead of a success the database never saw.
        await session.commit()


# scope="function": the exit code above runs when the endpoint returns, not after the response.
DbSession = Annotated[AsyncSession, Depends(get_session, scope="function")]
