"""The in-process broker (no broker URL): tasks sent through the API run in the API process,
with the semantics the Redis broker has: validation at enqueue, idempotency keys, retries then
dead letters and requeue, timeouts; the request id follows the task into its logs."""

from __future__ import annotations

from pathlib import Path

import pytest
import stamina

from example_service.tasks.runtime import TaskRuntime
from tests.conftest import LogCapture
from tests.identity import Api
from tests.tasks.sample_tasks import FLAKY, RECORD, SLOW, effects


def runtime(api: Api) -> TaskRuntime:
    tasks: TaskRuntime = api.app.state.tasks
    return tasks


async def send(api: Api, token: dict[str, str], name: str, body: dict[str, object]) -> dict:
    response = await api.client.post(f"/api/v1/tasks/{name}", json=body, headers=token)
    assert response.status_code == 202, response.text
    await runtime(api).idle()
    return dict(response.json())


async def test_a_task_sent_through_the_api_takes_effect_with_the_request_id(
    tasks_api: Api, effects_url: str, logs: LogCapture
) -> None:
    admin = await tasks_api.account("admin@example.com", admin=True)
    response = await tasks_api.client.post(
        f"/api/v1/tasks/{RECORD}",
        json={"args": {"marker": "one"}},
        headers={**admin.auth, "X-Request-ID": "req-task-1"},
    )
    assert response.status_code == 202, response.text
    task_id = response.json()["task_id"]
    await runtime(tasks_api).idle()
    assert await effects(effects_url, "one") == [("one", 1)]
    finished = [e for e in logs.events("task.finished") if e.get("task_id") == task_id]
    assert finished, logs.lines()
    assert finished[0]["request_id"] == "req-task-1"
    assert finished[0]["status"] == "ok"
    assert finished[0]["task"] == RECORD


async def test_bad_arguments_are_a_422_in_the_api_and_nothing_is_sent(
    tasks_api: Api, effects_url: str, logs: LogCapture
) -> None:
    admin = await tasks_api.account("admin@example.com", admin=True)
    response = await tasks_api.client.post(
        f"/api/v1/tasks/{RECORD}", json={"args": {"marker": ""}}, headers=admin.auth
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "marker" in response.text
    unknown = await tasks_api.client.post("/api/v1/tasks/no.such", json={}, headers=admin.auth)
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    # Registered, but not open to the API: an e-mail to any address is not an admin's tool.
    body = {"args": {"email": "x@example.com", "full_name": "X"}}
    closed = await tasks_api.client.post(
        "/api/v1/tasks/users.welcome_email", json=body, headers=admin.auth
    )
    assert closed.status_code == 404
    user = await tasks_api.account("user@example.com")
    denied = await tasks_api.client.post(
        f"/api/v1/tasks/{RECORD}", json={"args": {"marker": "x"}}, headers=user.auth
    )
    assert denied.status_code == 403
    await runtime(tasks_api).idle()
    assert await effects(effects_url) == []


async def test_enqueue_task_takes_the_arguments_as_keywords(
    tasks_api: Api, effects_url: str
) -> None:
    await runtime(tasks_api).enqueue_task(RECORD, marker="kw")
    await runtime(tasks_api).idle()
    assert await effects(effects_url, "kw") == [("kw", 1)]


async def test_one_idempotency_key_takes_effect_once(
    tasks_api: Api, effects_url: str, logs: LogCapture
) -> None:
    admin = await tasks_api.account("admin@example.com", admin=True)
    body = {"args": {"marker": "once"}, "idempotency_key": "order-42"}
    first = await send(tasks_api, admin.auth, RECORD, body)
    second = await send(tasks_api, admin.auth, RECORD, body)
    assert first["task_id"] != second["task_id"]
    assert await effects(effects_url, "once") == [("once", 1)]
    statuses = [e["status"] for e in logs.events("task.finished") if e["task"] == RECORD]
    assert statuses == ["ok", "duplicate"]


async def test_retried_then_dead_lettered_then_requeued(
    tasks_api: Api, effects_url: str, tmp_path: Path
) -> None:
    admin = await tasks_api.account("admin@example.com", admin=True)
    down, attempts = tmp_path / "down", tmp_path / "attempts"
    down.touch()
    args = {"marker": "flaky", "fail_while": str(down), "attempts_file": str(attempts)}
    # Retries on, without waits: three attempts in all (the worker test checks that
    # TASKS_MAX_RETRIES sets the count).
    with stamina.set_testing(True, attempts=3):
        sent = await send(tasks_api, admin.auth, FLAKY, {"args": args})
    assert attempts.read_text().split() == ["1", "2", "3"]
    tasks = runtime(tasks_api)
    [letter] = await tasks.dead_letters.list()
    assert (letter.id, letter.task, letter.attempts) == (sent["task_id"], FLAKY, 3)
    assert "RetryableTaskError" in letter.error
    assert await effects(effects_url) == []

    down.unlink()  # the dependency is back
    popped = await tasks.dead_letters.pop(letter.id)
    assert popped is not None
    await tasks.requeue(popped)
    await tasks.idle()
    assert await effects(effects_url, "flaky") == [("flaky", 1)]
    assert await tasks.dead_letters.count() == 0


@pytest.mark.parametrize("seconds", [5.0])
async def test_a_task_past_its_deadline_is_stopped_and_dead_lettered(
    tasks_api: Api, seconds: float
) -> None:
    admin = await tasks_api.account("admin@example.com", admin=True)
    sent = await send(tasks_api, admin.auth, SLOW, {"args": {"seconds": seconds}})
    [letter] = await runtime(tasks_api).dead_letters.list()
    assert letter.id == sent["task_id"]
    assert letter.error.startswith("TimeoutError")
