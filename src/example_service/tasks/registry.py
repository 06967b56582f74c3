"""Task definitions: `register_task` declares a task, its argument model and its limits.

A definition is data (a name, a pydantic model, a coroutine function): registering one creates
no broker or client. The broker built at startup (`broker.py`) learns every registered task;
the worker and the scheduler import `TASKS_MODULES` first so that theirs are registered too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel

if TYPE_CHECKING:
    from example_service.tasks.context import TaskContext

A = TypeVar("A", bound=BaseModel)
TaskFunction = Callable[[A, "TaskContext"], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class TaskSpec(Generic[A]):
    name: str
    args: type[A]
    function: TaskFunction[A]
    timeout: float | None = None  # seconds per attempt; None: TASKS_TIMEOUT_SECONDS
    retries: int | None = None  # None: TASKS_MAX_RETRIES
    # Periodic: a cron expression (UTC) or an interval in whole seconds; the scheduler sends it.
    cron: str | None = None
    interval: int | None = None
    # A TasksSettings field (e.g. "purge_schedule") whose value, when set, replaces `cron`.
    cron_setting: str | None = None
    # May an administrator send it through POST /tasks/{name}? Only tasks whose arguments are
    # safe in any hands that can call it (not the welcome e-mail: any address, any name).
    api: bool = False


_TASKS: dict[str, TaskSpec[Any]] = {}


def register_task(
    name: str,
    args: type[A],
    *,
    timeout: float | None = None,
    retries: int | None = None,
    cron: str | None = None,
    interval: int | None = None,
    cron_setting: str | None = None,
    api: bool = False,
) -> Callable[[TaskFunction[A]], TaskFunction[A]]:
    """Declare the coroutine below as the task `name`, taking `args` (validated at enqueue)."""

    def decorate(function: TaskFunction[A]) -> TaskFunction[A]:
        existing = _TASKS.get(name)
        if existing is not None and existing.function is not function:
            raise ValueError(f"task {name!r} is already registered")
        _TASKS[name] = TaskSpec(
            name, args, function, timeout, retries, cron, interval, cron_setting, api
        )
        return function

    return decorate


def registered() -> dict[str, TaskSpec[Any]]:
    return dict(_TASKS)


def load_task_modules(modules: list[str]) -> None:
    """Import the modules that register tasks: the built-in ones and TASKS_MODULES."""
    import importlib  # noqa: PLC0415

    for module in ["example_service.tasks.builtin", *modules]:
        importlib.import_module(module)
