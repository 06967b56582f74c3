"""TASKS_ settings: the seeds' names are read or reported; the broker falls back to REDIS_URL."""

from __future__ import annotations

import pytest

from example_service.settings import Settings


# part: redis
def test_the_broker_is_tasks_broker_url_else_redis_url_else_in_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings.load().tasks_broker_url is None
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/0")
    assert Settings.load().tasks_broker_url == "redis://cache:6379/0"
    monkeypatch.setenv("TASKS_BROKER_URL", "redis://queue:6379/1")
    assert Settings.load().tasks_broker_url == "redis://queue:6379/1"


# end part: redis


def test_the_seeds_task_variables_are_read_or_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENABLE_BACKGROUND_TASKS", "true")
    # part: redis
    monkeypatch.setenv("TASK_BROKER_URL", "redis://queue:6379/1")
    monkeypatch.setenv("TASK_RESULT_BACKEND", "redis://queue:6379/2")
    # end part: redis
    settings = Settings.load()
    notices = " ".join(settings.notices)
    assert "ENABLE_BACKGROUND_TASKS" in notices
    # part: redis
    assert settings.tasks_broker_url == "redis://queue:6379/1"
    assert "TASK_BROKER_URL" in notices
    assert "TASK_RESULT_BACKEND" in notices
    # end part: redis
