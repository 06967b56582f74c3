"""Write-behind: batches, retries, shutdown flush; and against real server processes, SIGTERM
flushes everything queued.
# part: redis

With the Redis queue (a stream read by a consumer group), kill -9 loses nothing.
# end part: redis
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pydantic import BaseModel

from example_service.cache.strategies.behind import MemoryQueue, WriteBehind, WriteQueue
from example_service.cache.strategies.behind_redis import RedisStreamQueue
from example_service.redis.client import RedisLayer, create_redis
from example_service.settings import RedisSettings
from tests.servers import PROJECT_PREFIXES, RedisServer, free_port, wait_until_healthy

ROOT = Path(__file__).resolve().parents[2]


class Row(BaseModel):
    id: int


class Store:
    def __init__(self) -> None:
        self.rows: set[int] = set()
        self.batches: list[int] = []
        self.failures = 0

    async def flush(self, rows: list[Row]) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("source down")
        self.batches.append(len(rows))
        self.rows.update(row.id for row in rows)


QUEUES = [
    "memory",
    # part: redis
    "redis",
    # end part: redis
]


@pytest.fixture(params=QUEUES)
async def queue(request: pytest.FixtureRequest) -> AsyncIterator[WriteQueue]:
    # part: redis
    if request.param == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        layer = create_redis(RedisSettings(url=server.url))
        assert layer is not None
        try:
            yield RedisStreamQueue(layer, f"wb:{uuid.uuid4()}", claim_after=0.2)
        finally:
            await layer.aclose()
        return
    # end part: redis
    yield MemoryQueue()


async def test_writes_reach_the_source_in_batches(queue: WriteQueue) -> None:
    store = Store()
    writer = WriteBehind(queue, Row, store.flush, batch_size=10, interval=0.01)
    for i in range(25):
        await writer.write(Row(id=i))
    assert store.rows == set()  # acknowledged, not yet written
    writer.start()
    for _ in range(100):
        if len(store.rows) == 25:
            break
        await asyncio.sleep(0.01)
    await writer.aclose()
    assert store.rows == set(range(25))
    assert max(store.batches) <= 10
    assert await queue.size() == 0


async def test_a_failed_flush_keeps_its_items(queue: WriteQueue) -> None:
    store = Store()
    store.failures = 2
    writer = WriteBehind(queue, Row, store.flush, batch_size=5)
    for i in range(5):
        await writer.write(Row(id=i))
    for _ in range(2):  # retries are off in the suite: each failure leaves the batch queued
        with pytest.raises(ConnectionError):
            await writer.flush_once()
        assert await queue.size() == 5
    assert await writer.flush_once() == 5
    assert store.rows == set(range(5))


async def test_shutdown_flushes_everything(queue: WriteQueue) -> None:
    store = Store()
    writer = WriteBehind(queue, Row, store.flush, batch_size=3, interval=60)
    writer.start()
    for i in range(10):
        await writer.write(Row(id=i))
    await writer.aclose()
    assert store.rows == set(range(10))


# part: redis
async def test_a_dead_consumers_items_are_claimed(redis_layer: RedisLayer) -> None:
    crashed = RedisStreamQueue(redis_layer, "wb:claim", claim_after=0.1)
    crashed.consumer = "crashed:1"
    for i in range(3):
        await crashed.put(Row(id=i).model_dump_json().encode())
    taken = await crashed.take(10)
    assert len(taken) == 3  # taken, never acknowledged: the process died here
    survivor = RedisStreamQueue(redis_layer, "wb:claim", claim_after=0.1)
    assert await survivor.take(10) == []  # not before the crashed one has been silent long enough
    await asyncio.sleep(0.15)
    claimed = await survivor.take(10)
    assert [item_id for item_id, _ in claimed] == [item_id for item_id, _ in taken]
    await survivor.done([item_id for item_id, _ in claimed])
    assert await survivor.size() == 0


# end part: redis


# --- real server processes ---------------------------------------------------------------------


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "app.db"


def _visits(database: Path) -> set[str]:
    with sqlite3.connect(database) as conn:
        return {row[0] for row in conn.execute("SELECT id FROM visits")}


class Server:
    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        clean = {k: v for k, v in os.environ.items() if not k.startswith(PROJECT_PREFIXES)}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "tests.cache.writebehind_app:create_app",
                "--factory",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            cwd=cwd,
            env={**clean, "PYTHONPATH": str(ROOT), **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        assert wait_until_healthy(self.process, self.base), (
            self.process.stderr.read() if self.process.stderr else b""
        )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def visit(self, count: int, start: int = 0) -> None:
        with httpx.Client(base_url=self.base) as client:
            for i in range(start, start + count):
                assert client.post(f"/visits/v{i}").status_code == 202


@pytest.fixture
def server_env(database: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "RATE_LIMIT_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
    }


def test_sigterm_flushes_every_queued_write(
    tmp_path: Path, database: Path, server_env: dict[str, str]
) -> None:
    server = Server(tmp_path, {**server_env, "WB_INTERVAL": "60"})  # nothing flushes by itself
    try:
        server.visit(50)
        assert _visits(database) == set()
    finally:
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=30)
    assert _visits(database) == {f"v{i}" for i in range(50)}


# part: redis
def test_kill_9_with_the_redis_queue_loses_nothing(
    tmp_path: Path, database: Path, server_env: dict[str, str], own_redis: RedisServer
) -> None:
    env = {**server_env, "REDIS_URL": own_redis.url, "WB_CLAIM_AFTER": "0.5"}
    first = Server(tmp_path, {**env, "WB_INTERVAL": "0.05", "WB_FLUSH_DELAY": "60"})
    try:
        first.visit(40)
        time.sleep(0.3)  # the flusher has taken a batch and is stuck writing it
    finally:
        first.process.kill()
        first.process.wait(timeout=10)
    assert _visits(database) == set()
    second = Server(tmp_path, {**env, "WB_INTERVAL": "0.05"})
    try:
        deadline = time.monotonic() + 15
        while _visits(database) != {f"v{i}" for i in range(40)}:
            assert time.monotonic() < deadline, len(_visits(database))
            time.sleep(0.1)
    finally:
        second.process.send_signal(signal.SIGTERM)
        second.process.wait(timeout=30)


# end part: redis
