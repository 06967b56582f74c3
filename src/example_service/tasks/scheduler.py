"""`example-service scheduler`: sends the periodic tasks to the broker when they are due.

Run exactly one per deployment. The scheduler keeps no shared state and takes no lock: two of
them would each send every periodic task, and the purge would run twice per slot (harmless for
it, not for a task that bills or mails). If it is down, nothing periodic runs until it is
back; slots missed meanwhile are not made up. Schedules are the `cron` / `interval` of the
registered tasks, a cron taken from settings where the task names one (TASKS_PURGE_SCHEDULE).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

from example_service.db.engine import create_engine, create_session_factory
from example_service.observability.logging import get_logger
from example_service.settings import Settings
from example_service.tasks.broker import build_runtime
from example_service.tasks.registry import TaskSpec, load_task_modules

if TYPE_CHECKING:
    from taskiq import ScheduledTask, TaskiqScheduler

    from example_service.tasks.runtime import TaskRuntime

logger = get_logger("example_service.tasks")


def schedules(settings: Settings, specs: dict[str, TaskSpec[Any]]) -> list[ScheduledTask]:
    from taskiq import ScheduledTask  # noqa: PLC0415

    out: list[ScheduledTask] = []
    for spec in specs.values():
        cron = spec.cron
        if spec.cron_setting is not None:
            cron = getattr(settings.tasks, spec.cron_setting)
        if not cron and spec.interval is None:
            continue  # e.g. TASKS_PURGE_SCHEDULE empty: off
        out.append(
            ScheduledTask(
                task_name=spec.name,
                labels={},
                args=[],
                kwargs={"payload": {}},
                schedule_id=spec.name,
                cron=cron or None,
                interval=None if cron else spec.interval,
            )
        )
    return out


def build_scheduler(runtime: TaskRuntime) -> TaskiqScheduler:
    from taskiq import ScheduleSource, TaskiqScheduler  # noqa: PLC0415

    class Registered(ScheduleSource):
        def __init__(self, items: list[ScheduledTask]) -> None:
            self.items = items

        async def get_schedules(self) -> list[ScheduledTask]:
            return self.items

    items = schedules(runtime.settings, runtime.specs)
    logger.info(
        "scheduler.started",
        schedules={item.task_name: item.cron or f"every {item.interval}s" for item in items},
    )
    return TaskiqScheduler(runtime.broker, [Registered(items)])


def start_in_process(runtime: TaskRuntime, stack: AsyncExitStack) -> None:
    """The in-process broker: the API process is its own scheduler (development only; with
    several server workers each one sends the periodic tasks)."""
    from taskiq.api import run_scheduler_task  # noqa: PLC0415

    running = asyncio.get_running_loop().create_task(run_scheduler_task(build_scheduler(runtime)))

    async def stop() -> None:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running

    stack.push_async_callback(stop)


async def run_scheduler(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Send periodic tasks until `stop` is set (default: until SIGTERM or SIGINT)."""
    from taskiq.api import run_scheduler_task  # noqa: PLC0415

    load_task_modules(settings.tasks.modules)
    if stop is None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
    async with AsyncExitStack() as stack:
        # The engine is never connected: the runtime's tasks do not run here.
        engine = create_engine(settings.database)
        stack.push_async_callback(engine.dispose)
        runtime = await build_runtime(settings, create_session_factory(engine), stack)
        running = asyncio.create_task(run_scheduler_task(build_scheduler(runtime)))
        await stop.wait()
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        logger.info("scheduler.stopped")
