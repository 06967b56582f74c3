"""Background work (TASKS_) and the e-mail it sends (EMAIL_)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from example_service.settings.base import CsvList, _Section, _section


class TasksSettings(_Section):
    model_config = _section("TASKS_")

    # part: redis
    # The broker: a Redis URL. Unset: REDIS_URL; both unset: tasks run inside the API process
    # (in-process broker, development only: a restart loses what is queued).
    broker_url: SecretStr | None = None
    queue: str = "tasks"  # the Redis stream the workers read
    prefix: str = "tasks:"  # Redis keys of dead letters and results
    # end part: redis
    # Tasks one worker process runs at the same time.
    concurrency: int = Field(default=10, ge=1)
    # part: redis
    # How long a finished task's result stays readable in Redis.
    result_ttl_seconds: int = Field(default=3600, ge=1)
    # end part: redis
    # Retries of a task that failed with a retryable error (0: none), then a dead letter.
    max_retries: int = Field(default=3, ge=0)
    retry_wait_initial_seconds: float = Field(default=1.0, ge=0)
    retry_wait_max_seconds: float = Field(default=60.0, ge=0)
    # A task's deadline per attempt, unless it declares its own.
    timeout_seconds: float = Field(default=300.0, gt=0)
    # SIGTERM: the worker takes no new task and waits this long for the running ones.
    shutdown_timeout_seconds: float = Field(default=30.0, gt=0)
    # part: redis
    # A task taken by a worker that died (kill -9, OOM) goes to another worker once it has been
    # unacknowledged this long. Longer than the longest task: a slow task is not run twice.
    redeliver_after_seconds: float = Field(default=600.0, ge=0.1)
    # end part: redis
    # Modules imported by the worker and the scheduler so that their tasks are registered.
    modules: CsvList = Field(default_factory=list)
    # The periodic purge of expired and revoked sessions (cron, UTC; empty: never) and how long
    # a revoked or expired session (and an idempotency record) is kept first.
    purge_schedule: str = "17 * * * *"
    purge_after_hours: int = Field(default=24, ge=0)


class EmailSettings(_Section):
    model_config = _section("EMAIL_")

    # log: e-mail is written to the log, not sent (the default: nothing leaves the machine).
    backend: Literal["log", "smtp"] = "log"
    from_address: str = "noreply@example.com"
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False  # upgrade a plain connection (port 587)
    smtp_tls: bool = False  # TLS from the first byte (port 465)
    timeout_seconds: float = Field(default=10.0, gt=0)
