"""A periodic task for the scheduler test (TASKS_MODULES=tests.tasks.periodic_tasks): kept out
of sample_tasks so that no other test's in-process scheduler sends it."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from example_service.tasks.context import TaskContext
from example_service.tasks.registry import register_task

TICK = "test.tick"


class NoArgs(BaseModel):
    pass


@register_task(TICK, NoArgs, interval=1)
async def tick(_: NoArgs, context: TaskContext) -> None:
    async def insert(session: AsyncSession) -> None:
        await session.execute(
            text("INSERT INTO task_effects (marker, attempt) VALUES ('tick', :a)"),
            {"a": context.attempt},
        )

    await context.apply_once(insert)
