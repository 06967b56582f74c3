"""Which periodic tasks the scheduler sends: the registered cron or interval, a cron from
settings where the task names one, none for an empty setting."""

from __future__ import annotations

from pydantic import BaseModel

from example_service.settings import Settings, TasksSettings
from example_service.tasks.builtin import PURGE_SESSIONS
from example_service.tasks.registry import TaskSpec, registered
from example_service.tasks.scheduler import schedules


class NoArgs(BaseModel):
    pass


async def _noop(_: NoArgs, _context: object) -> None:
    return None


def test_schedules_follow_the_registry_and_the_settings() -> None:
    specs = {
        PURGE_SESSIONS: registered()[PURGE_SESSIONS],
        "every": TaskSpec("every", NoArgs, _noop, interval=5),  # type: ignore[arg-type]
        "never": TaskSpec("never", NoArgs, _noop),  # type: ignore[arg-type]
    }
    found = schedules(Settings(tasks=TasksSettings(purge_schedule="*/5 * * * *")), specs)
    assert {(s.task_name, s.cron, s.interval) for s in found} == {
        (PURGE_SESSIONS, "*/5 * * * *", None),
        ("every", None, 5),
    }
    assert all(s.kwargs == {"payload": {}} for s in found)
    off = schedules(Settings(tasks=TasksSettings(purge_schedule="")), specs)
    assert [s.task_name for s in off] == ["every"]
