"""`TaskQueue`: the process's tasks in a route (`async def route(tasks: TaskQueue)`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from example_service.tasks.runtime import TaskRuntime


async def _tasks(request: Request) -> TaskRuntime:
    # async: FastAPI runs a plain `def` dependency in a worker thread, a hop per request.
    tasks: TaskRuntime = request.app.state.tasks
    return tasks


TaskQueue = Annotated[TaskRuntime, Depends(_tasks)]
