"""Real `example-service worker | scheduler | tasks ...` processes for the tests, on the test's
Redis and database, each test on a queue and key prefix of its own."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
from pydantic import SecretStr

from example_service.db.engine import create_engine, create_session_factory
from example_service.settings import DatabaseSettings, RedisSettings, Settings, TasksSettings
from example_service.tasks.broker import build_runtime
from example_service.tasks.runtime import TaskRuntime
from tests.conftest import log_lines
from tests.servers import PROJECT_PREFIXES

ROOT = Path(__file__).resolve().parents[2]


def task_env(redis_url: str, database_url: str, **extra: str) -> dict[str, str]:
    """The environment of the service's processes: this one's without the service's own
    variables, plus a queue and prefix unique to the test."""
    tag = uuid.uuid4().hex[:8]
    clean = {k: v for k, v in os.environ.items() if not k.startswith(PROJECT_PREFIXES)}
    return {
        **clean,
        "PYTHONPATH": str(ROOT),  # tests.tasks.sample_tasks
        "REDIS_URL": redis_url,
        "DATABASE_URL": database_url,
        "TASKS_QUEUE": f"tasks-{tag}",
        "TASKS_PREFIX": f"tasks-{tag}:",
        "TASKS_MODULES": "tests.tasks.sample_tasks",
        "TASKS_RETRY_WAIT_INITIAL_SECONDS": "0.01",
        "TASKS_RETRY_WAIT_MAX_SECONDS": "0.05",
        "APP_ENVIRONMENT": "test",
        "LOG_ACCESS_LOG": "false",
        **extra,
    }


class Proc:
    def __init__(self, process: subprocess.Popen[bytes], log: Path) -> None:
        self.process = process
        self.log = log

    def lines(self) -> list[dict[str, Any]]:
        return log_lines(self.log.read_bytes())

    def events(self, event: str) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line.get("event") == event]


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    """Poll `condition` until it is truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@contextlib.contextmanager
def service(command: str, env: dict[str, str], cwd: Path, ready: str) -> Iterator[Proc]:
    """`example-service <command>` running, once it logged `ready`; stopped on exit."""
    log = cwd / f"{command}-{uuid.uuid4().hex[:6]}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "example_service", command],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    proc = Proc(process, log)
    try:
        wait_for(lambda: proc.events(ready) or process.poll() is not None, f"{command} to start")
        assert process.poll() is None, log.read_text()
        yield proc
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "example_service", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def json_lines(text: str) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in text.splitlines() if line.startswith("{")]


def settings_from(env: dict[str, str]) -> Settings:
    """The settings the processes run with, for a runtime in the test process."""
    return Settings(
        redis=RedisSettings(url=SecretStr(env["REDIS_URL"])),
        database=DatabaseSettings(url=SecretStr(env["DATABASE_URL"])),
        tasks=TasksSettings(queue=env["TASKS_QUEUE"], prefix=env["TASKS_PREFIX"]),
    )


@asynccontextmanager
async def sender(env: dict[str, str]) -> AsyncIterator[TaskRuntime]:
    """A runtime in the test process that sends to the workers' queue (as the API does)."""
    settings = settings_from(env)
    async with AsyncExitStack() as stack:
        engine = create_engine(settings.database)
        stack.push_async_callback(engine.dispose)
        yield await build_runtime(settings, create_session_factory(engine), stack)


async def until(condition: Callable[[], Awaitable[Any]], what: str, limit_s: float = 30.0) -> Any:
    """`wait_for` for a condition that is a coroutine (a database read)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        value = await condition()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
