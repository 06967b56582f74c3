"""Idempotency records: the key of every task that took effect, in the service's database.

A task is delivered at least once; the key (the task id, or one the enqueuer chose) lets a
second delivery see that the first took effect. `apply_once` commits the record with the
effect; for effects outside the database (an e-mail) the runner records the key after the
task returns, so a worker killed between the two repeats that effect once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from sqlalchemy import String, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from example_service.db.base import Base, UTCDateTime

T = TypeVar("T")


class TaskRun(Base):
    __tablename__ = "task_runs"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    task: Mapped[str] = mapped_column(String(100))
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


async def already_applied(factory: async_sessionmaker[AsyncSession], key: str) -> bool:
    async with factory() as session:
        found = await session.scalar(select(TaskRun.key).where(TaskRun.key == key))
    return found is not None


async def record(factory: async_sessionmaker[AsyncSession], key: str, task: str) -> None:
    """Record `key` (a second record of the same key is no error)."""
    try:
        async with factory() as session, session.begin():
            session.add(TaskRun(key=key, task=task, finished_at=datetime.now(UTC)))
    except IntegrityError:
        pass


async def apply_once(
    factory: async_sessionmaker[AsyncSession],
    key: str,
    task: str,
    effect: Callable[[AsyncSession], Awaitable[T]],
) -> bool:
    try:
        async with factory() as session, session.begin():
            # The record first: a concurrent delivery of the same key waits on it, then fails.
            session.add(TaskRun(key=key, task=task, finished_at=datetime.now(UTC)))
            await session.flush()
            await effect(session)
    except IntegrityError:
        if await already_applied(factory, key):
            return False
        raise
    return True


async def purge_records(session: AsyncSession, older_than: timedelta) -> int:
    cutoff = datetime.now(UTC) - older_than
    result = await session.execute(delete(TaskRun).where(TaskRun.finished_at < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
