"""/tasks/{name}: an administrator sends a task now (e.g. the purge, off schedule): tasks
registered with `api=True` only; any other name is a 404.

The arguments are validated against the task's model here, in the API: a bad payload is a
422 with the offending fields, never a failure later in a worker.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from example_service.auth.dependencies import Principal, require_permission
from example_service.auth.roles import Permission
from example_service.errors.problem import problem_responses
from example_service.tasks.dependencies import TaskQueue

router = APIRouter(prefix="/tasks", tags=["tasks"])


class EnqueueRequest(BaseModel):
    args: dict[str, Any] = Field(default_factory=dict, description="The task's arguments")
    # The same key sent twice takes effect once (see README, Background tasks).
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)


class TaskEnqueued(BaseModel):
    task: str
    task_id: str


@router.post(
    "/{name}",
    status_code=202,
    response_model=TaskEnqueued,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def enqueue(
    tasks: TaskQueue,
    name: Annotated[str, Path(max_length=100)],
    body: EnqueueRequest,
    _admin: Annotated[Principal, Depends(require_permission(Permission.TASKS_ENQUEUE))],
) -> TaskEnqueued:
    """Send the registered task `name` with `args` (administrators)."""
    task_id = await tasks.enqueue(
        name, body.args, idempotency_key=body.idempotency_key, from_api=True
    )
    return TaskEnqueued(task=name, task_id=task_id)
