"""Real worker processes on the real Redis and PostgreSQL the suite starts: a task killed with
its worker runs again elsewhere and takes effect once; SIGTERM lets the running task finish;
retries, the dead letter, and the CLI's requeue."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import orjson
import pytest

from tests.servers import RedisServer
from tests.tasks.processes import (
    cli,
    json_lines,
    sender,
    service,
    task_env,
    until,
    wait_for,
)
from tests.tasks.sample_tasks import FLAKY, RECORD, RecordArgs, effects

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
def env(redis_server: RedisServer, database: str) -> dict[str, str]:
    return task_env(redis_server.url, database)


def stats(env: dict[str, str], cwd: Path) -> dict[str, int]:
    answer = cli(env, cwd, "tasks", "stats")
    assert answer.returncode == 0, answer.stderr
    figures: dict[str, int] = orjson.loads(answer.stdout)
    return figures


def finished(worker: object, status: str) -> list[dict[str, object]]:
    return [e for e in worker.events("task.finished") if e["status"] == status]  # type: ignore[attr-defined]


@pytest.mark.parametrize("killed", ["before the effect", "after the effect"])
async def test_a_task_whose_worker_is_killed_runs_on_another_and_takes_effect_once(
    env: dict[str, str], database: str, tmp_path: Path, killed: str
) -> None:
    started = tmp_path / "started"
    if killed == "before the effect":
        args = RecordArgs(marker="m", sleep_before=2.0, started_file=str(started))
    else:  # the effect is committed, then the task runs on, unacknowledged
        args = RecordArgs(marker="m", sleep_after=60.0, started_file=str(started))
    with service("worker", env, tmp_path, "worker.started") as first:
        async with sender(env) as tasks:
            task_id = await tasks.enqueue(RECORD, args)
        wait_for(started.exists, "the task to start")
        if killed == "after the effect":
            await until(lambda: effects(database, "m"), "the effect")
        os.killpg(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=10)
    assert finished(first, "ok") == []
    # A second worker claims what the dead one held once it has been idle this long.
    second_env = {**env, "TASKS_REDELIVER_AFTER_SECONDS": "0.5"}
    with service("worker", second_env, tmp_path, "worker.started") as second:
        expected = "duplicate" if killed == "after the effect" else "ok"
        [done] = wait_for(lambda: finished(second, expected), f"the task to end {expected}")
        assert done["task_id"] == task_id
    assert await effects(database, "m") == [("m", 1)]


async def test_sigterm_lets_the_running_task_finish_takes_no_new_one_and_exits_0(
    env: dict[str, str], database: str, tmp_path: Path
) -> None:
    started = tmp_path / "started"
    with service("worker", env, tmp_path, "worker.started") as worker:
        async with sender(env) as tasks:
            await tasks.enqueue(
                RECORD, RecordArgs(marker="long", sleep_before=2.0, started_file=str(started))
            )
            wait_for(started.exists, "the task to start")
            worker.process.send_signal(signal.SIGTERM)
            wait_for(lambda: worker.events("worker.stopping"), "the worker to stop reading")
            # Sent once the worker stopped taking messages: not run by it.
            await tasks.enqueue(RECORD, RecordArgs(marker="later"))
            assert worker.process.wait(timeout=30) == 0
    assert await effects(database) == [("long", 1)]
    assert worker.events("worker.stopped")
    # The next worker runs it at once (had the stopping worker read it already, it handed it
    # back: no wait for TASKS_REDELIVER_AFTER_SECONDS, 600 s here).
    with service("worker", env, tmp_path, "worker.started"):
        await until(lambda: effects(database, "later"), "the later task on the next worker")
    assert sorted(await effects(database)) == [("later", 1), ("long", 1)]


async def test_a_failing_task_is_retried_dead_lettered_and_requeued_by_the_cli(
    env: dict[str, str], database: str, tmp_path: Path
) -> None:
    down, attempts = tmp_path / "down", tmp_path / "attempts"
    down.touch()
    env = {**env, "TASKS_MAX_RETRIES": "2"}
    args = {"marker": "flaky", "fail_while": str(down), "attempts_file": str(attempts)}
    with service("worker", env, tmp_path, "worker.started") as worker:
        async with sender(env) as tasks:
            task_id = await tasks.enqueue(FLAKY, args)
        wait_for(lambda: finished(worker, "failed"), "the dead letter")
        assert attempts.read_text().split() == ["1", "2", "3"]  # the first and two retries

        listed = cli(env, tmp_path, "tasks", "failed")
        assert listed.returncode == 0, listed.stderr
        [letter] = json_lines(listed.stdout)
        assert (letter["id"], letter["task"], letter["attempts"]) == (task_id, FLAKY, 3)
        assert "RetryableTaskError" in letter["error"]
        assert stats(env, tmp_path)["failed"] == 1

        down.unlink()  # the dependency is back
        retried = cli(env, tmp_path, "tasks", "retry", task_id)
        assert retried.returncode == 0, retried.stderr
        await until(lambda: effects(database, "flaky"), "the requeued task's effect")
        again = cli(env, tmp_path, "tasks", "retry", task_id)
        assert again.returncode == 1  # no such letter any more
    assert await effects(database, "flaky") == [("flaky", 1)]
    figures = stats(env, tmp_path)
    # Two deliveries: the one that ended in the dead letter, and the requeued one that took effect.
    assert figures == {"queued": 0, "running": 0, "failed": 0, "done": 1}


async def test_a_task_past_the_shutdown_timeout_is_handed_back_and_runs_elsewhere(
    env: dict[str, str], database: str, tmp_path: Path
) -> None:
    started = tmp_path / "started"
    env = {**env, "TASKS_SHUTDOWN_TIMEOUT_SECONDS": "0.5"}
    with service("worker", env, tmp_path, "worker.started") as worker:
        async with sender(env) as tasks:
            task_id = await tasks.enqueue(
                RECORD, RecordArgs(marker="slow", sleep_before=3.0, started_file=str(started))
            )
        wait_for(started.exists, "the task to start")
        worker.process.send_signal(signal.SIGTERM)
        assert worker.process.wait(timeout=30) == 0  # did not wait for the task
    assert await effects(database) == []
    [stopped] = worker.events("worker.stopped")
    assert stopped["handed_back"] == 1
    # The next worker takes it at once (the redelivery delay is 600 s here) and runs it.
    with service("worker", env, tmp_path, "worker.started") as second:
        [done] = wait_for(lambda: finished(second, "ok"), "the task on the next worker")
        assert done["task_id"] == task_id
    assert await effects(database) == [("slow", 1)]
