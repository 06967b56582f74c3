"""A real `serve` process sends tasks that a real worker runs: the effect lands in the
database, the welcome e-mail reaches a real SMTP server (aiosmtpd) the test starts, the worker
logs the enqueuing request's id; and the scheduler sends a periodic task on time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import create_async_engine

from example_service.users.models import User
from tests.identity import JWT_SECRET, PASSWORD
from tests.servers import RedisServer, serve_process
from tests.tasks.conftest import Mailbox
from tests.tasks.processes import service, task_env, until, wait_for
from tests.tasks.sample_tasks import RECORD, effects

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


async def promote(url: str, email: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(update(User).where(User.email == email).values(role="admin"))
    await engine.dispose()


async def recorded_keys(url: str) -> list[str]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT key FROM task_runs"))
        keys = [row[0] for row in rows]
    await engine.dispose()
    return keys


async def test_tasks_sent_by_the_api_run_in_the_worker(
    redis_server: RedisServer, database: str, smtp: tuple[Mailbox, int], tmp_path: Path
) -> None:
    mailbox, smtp_port = smtp
    env = task_env(
        redis_server.url,
        database,
        SECURITY_JWT_SECRET=JWT_SECRET,
        SECURITY_PASSWORD_HASH_TIME_COST="1",
        SECURITY_PASSWORD_HASH_MEMORY_KIB="1024",
        EMAIL_BACKEND="smtp",
        EMAIL_SMTP_HOST="127.0.0.1",
        EMAIL_SMTP_PORT=str(smtp_port),
    )
    with (
        serve_process(tmp_path, env) as served,
        service("worker", env, tmp_path, "worker.started") as worker,
    ):
        async with httpx.AsyncClient(base_url=served.base, timeout=10) as client:
            body = {"email": "ada@example.com", "password": PASSWORD, "full_name": "Ada"}
            created = await client.post("/api/v1/users", json=body)
            assert created.status_code == 201, created.text
            # The registration's welcome e-mail, through the worker, to the SMTP server.
            wait_for(lambda: mailbox.messages, "the welcome e-mail")
            [mail] = mailbox.messages
            assert mail["To"] == "ada@example.com"
            assert mail["Subject"] == "Welcome to example-service"
            user_id = created.json()["id"]
            await until(lambda: _has(recorded_keys(database), f"welcome:{user_id}"), "its record")

            await promote(database, "ada@example.com")
            login = {"email": "ada@example.com", "password": PASSWORD}
            token = (await client.post("/api/v1/auth/login", json=login)).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}", "X-Request-ID": "req-e2e-1"}
            bad = await client.post(
                f"/api/v1/tasks/{RECORD}", json={"args": {"marker": ""}}, headers=headers
            )
            assert bad.status_code == 422  # refused in the API: the worker never sees it
            sent = await client.post(
                f"/api/v1/tasks/{RECORD}", json={"args": {"marker": "e2e"}}, headers=headers
            )
            assert sent.status_code == 202, sent.text
            task_id = sent.json()["task_id"]
            await until(lambda: effects(database, "e2e"), "the task's effect")

        def logged() -> list[dict[str, Any]]:
            return [e for e in worker.events("task.finished") if e.get("task_id") == task_id]

        [line] = wait_for(logged, "the worker's log line")
        assert (line["request_id"], line["status"], line["task"]) == ("req-e2e-1", "ok", RECORD)
    assert await effects(database) == [("e2e", 1)]


async def _has(keys: Any, key: str) -> bool:
    return key in await keys


async def test_the_scheduler_sends_a_periodic_task_on_time(
    redis_server: RedisServer, database: str, tmp_path: Path
) -> None:
    # test.tick runs every second; the purge keeps its hourly cron.
    env = task_env(redis_server.url, database, TASKS_MODULES="tests.tasks.periodic_tasks")
    with (
        service("worker", env, tmp_path, "worker.started"),
        service("scheduler", env, tmp_path, "scheduler.started") as scheduler,
    ):
        await until(lambda: _count_at_least(database, 3), "three ticks")
    [started] = scheduler.events("scheduler.started")
    assert started["schedules"] == {"test.tick": "every 1s", "auth.purge_sessions": "17 * * * *"}


async def _count_at_least(url: str, count: int) -> bool:
    return len(await effects(url, "tick")) >= count
