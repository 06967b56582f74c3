"""Background tasks: register with `register_task`, send with `app.state.tasks.enqueue`.

`start_tasks` is what the app factory's lifespan calls: it builds this process's broker from
settings (see broker.py) and reports it in readiness. Workers and the scheduler are processes
of their own (`example-service worker`, `example-service scheduler`; worker.py, scheduler.py).
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

from example_service.tasks.registry import register_task

if TYPE_CHECKING:
    from fastapi import FastAPI

    from example_service.settings import Settings
    from example_service.tasks.metrics import TaskMetrics
    from example_service.tasks.runtime import TaskRuntime

__all__ = ["register_task", "start_tasks"]


async def start_tasks(
    app: FastAPI, settings: Settings, stack: AsyncExitStack, metrics: TaskMetrics
) -> TaskRuntime:
    from example_service.tasks.broker import build_runtime  # noqa: PLC0415
    from example_service.tasks.registry import load_task_modules  # noqa: PLC0415

    load_task_modules(settings.tasks.modules)
    runtime = await build_runtime(settings, app.state.session_factory, stack, metrics=metrics)
    app.state.tasks = runtime
    # part: redis
    if runtime.redis is not None:
        from example_service.health.probes import Dependency  # noqa: PLC0415

        # Optional: without the broker the service answers, only enqueuing fails (503).
        app.state.dependencies.append(Dependency("tasks", runtime.redis.ping, required=False))
        return runtime
    if settings.app.is_production:
        from example_service.observability.logging import get_logger  # noqa: PLC0415

        get_logger("example_service.tasks").warning(
            "tasks.in_process",
            detail="no TASKS_BROKER_URL or REDIS_URL: tasks run in this process and a "
            "restart loses what is queued; set one and run `example-service worker`",
        )
    # end part: redis
    from example_service.tasks.scheduler import start_in_process  # noqa: PLC0415

    start_in_process(runtime, stack)
    return runtime
