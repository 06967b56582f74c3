"""What operators see: the task metrics on /metrics, the broker in readiness, and a broker
outage as a 503 for the sender (never a 500) while registration goes on."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from example_service.settings import AppSettings, RedisSettings, TelemetrySettings
from tests.conftest import LogCapture
from tests.servers import RedisServer
from tests.tasks.conftest import TaskApp, running
from tests.tasks.sample_tasks import RECORD
from tests.tasks.test_inprocess import send


async def test_task_metrics_are_scraped(task_app: TaskApp) -> None:
    app = task_app(telemetry=TelemetrySettings(mode="prometheus"))
    async with running(app) as api:
        admin = await api.account("admin@example.com", admin=True)
        await send(api, admin.auth, RECORD, {"args": {"marker": "metered"}})
        text = (await api.client.get("/metrics")).text
    assert 'tasks_enqueued_total{task="test.record"} 1.0' in text
    assert 'tasks_completed_total{status="ok",task="test.record"} 1.0' in text
    assert 'task_duration_seconds_count{task="test.record"} 1.0' in text
    # Every registered task's series exist from the start, at 0.
    assert 'tasks_completed_total{status="failed",task="auth.purge_sessions"} 0.0' in text


# part: redis
@pytest.mark.redis
async def test_readiness_reports_the_broker_and_its_outage_is_a_503(
    task_app: TaskApp, own_redis: RedisServer, logs: LogCapture
) -> None:
    app = task_app(redis=RedisSettings(url=SecretStr(own_redis.url)))
    async with running(app) as api:
        admin = await api.account("admin@example.com", admin=True)
        ready = await api.client.get("/api/v1/health/ready")
        assert ready.json()["checks"]["tasks"]["probe"] == "ok"
        sent = await api.client.post(
            f"/api/v1/tasks/{RECORD}", json={"args": {"marker": "x"}}, headers=admin.auth
        )
        assert sent.status_code == 202

        own_redis.stop()
        down = await api.client.get("/api/v1/health/ready")
        assert down.status_code == 200  # optional: the instance stays in the load balancer
        assert down.json()["checks"]["tasks"]["status"] == "degraded"
        refused = await api.client.post(
            f"/api/v1/tasks/{RECORD}", json={"args": {"marker": "y"}}, headers=admin.auth
        )
        assert refused.status_code == 503
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["detail"] == "The task queue is unavailable; try again later."
        # Registration does not depend on the queue: the account exists, the e-mail is lost.
        created = await api.register("late@example.com")
        assert created.status_code == 201
        assert [e["task"] for e in logs.events("task.enqueue_failed")] == [
            RECORD,
            "users.welcome_email",
        ]


async def test_production_without_a_broker_warns_at_startup(
    task_app: TaskApp, logs: LogCapture
) -> None:
    async with running(task_app(app=AppSettings(environment="production"))):
        pass
    [warning] = logs.events("tasks.in_process")
    assert warning["level"] == "warning"
    async with running(task_app()):
        pass
    assert len(logs.events("tasks.in_process")) == 1  # not outside production


# end part: redis
