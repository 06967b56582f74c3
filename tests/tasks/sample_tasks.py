"""Tasks the tests send (loaded with TASKS_MODULES=tests.tasks.sample_tasks).

Each records its effect as a row of `task_effects` (created by `create_effects_table`), so a
test reads from the database what ran, and how many times. Files under the test's directory
let the test see a task start and decide whether it fails.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from example_service.tasks.context import TaskContext
from example_service.tasks.registry import register_task
from example_service.tasks.runner import RetryableTaskError

RECORD = "test.record"
FLAKY = "test.flaky"
SLOW = "test.slow"


class RecordArgs(BaseModel):
    marker: str = Field(min_length=1, max_length=100)
    sleep_before: float = Field(default=0.0, ge=0)  # seconds before the effect
    sleep_after: float = Field(default=0.0, ge=0)  # seconds after it (still unacknowledged)
    started_file: str | None = None  # touched when the task starts


# Small local files the test reads: blocking calls, kept out of the coroutines.
def _write(path: str, content: str) -> None:
    Path(path).write_text(content)


def _append(path: str, content: str) -> None:
    with Path(path).open("a") as file:
        file.write(content)


def _exists(path: str) -> bool:
    return Path(path).exists()


async def _insert(session: AsyncSession, marker: str, attempt: int) -> None:
    await session.execute(
        text("INSERT INTO task_effects (marker, attempt) VALUES (:m, :a)"),
        {"m": marker, "a": attempt},
    )


@register_task(RECORD, RecordArgs, timeout=60, api=True)
async def record(args: RecordArgs, context: TaskContext) -> None:
    if args.started_file:
        _write(args.started_file, context.task_id)
    await asyncio.sleep(args.sleep_before)
    if await context.apply_once(lambda session: _insert(session, args.marker, context.attempt)):
        await asyncio.sleep(args.sleep_after)


class FlakyArgs(BaseModel):
    marker: str
    fail_while: str  # a path: the task fails (retryably) while it exists
    attempts_file: str  # one line appended per attempt


@register_task(FLAKY, FlakyArgs, api=True)  # TASKS_MAX_RETRIES applies
async def flaky(args: FlakyArgs, context: TaskContext) -> None:
    _append(args.attempts_file, f"{context.attempt}\n")
    if _exists(args.fail_while):
        raise RetryableTaskError("the dependency is down")
    await context.apply_once(lambda session: _insert(session, args.marker, context.attempt))


class SlowArgs(BaseModel):
    seconds: float


@register_task(SLOW, SlowArgs, timeout=0.2, retries=1, api=True)
async def slow(args: SlowArgs, _: TaskContext) -> None:
    await asyncio.sleep(args.seconds)


async def create_effects_table(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(
            text("CREATE TABLE task_effects (marker VARCHAR(100) NOT NULL, attempt INTEGER)")
        )
    await engine.dispose()


async def effects(url: str, marker: str | None = None) -> list[tuple[str, int]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT marker, attempt FROM task_effects"))
            found = [(row[0], row[1]) for row in rows]
    finally:
        await engine.dispose()
    return [row for row in found if marker is None or row[0] == marker]
