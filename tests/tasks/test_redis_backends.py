"""The Redis side in-process, on the suite's shared redis-server (a queue and prefix of its
own per test): the worker loop with its stop event, messages deleted once finished, a stopping
consumer handing back what it read, dead letters, the scheduler's start and stop."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import httpx
import pytest
from pydantic import SecretStr
from redis.asyncio import Redis

from example_service.db.engine import create_engine, create_session_factory
from example_service.observability.logging import configure_logging
from example_service.settings import (
    DatabaseSettings,
    RedisSettings,
    Settings,
    TasksSettings,
    TelemetrySettings,
)
from example_service.tasks.base import DeadLetter
from example_service.tasks.broker import build_runtime
from example_service.tasks.redis import GROUP, RedisDeadLetters, StreamBroker
from example_service.tasks.runtime import TaskRuntime
from example_service.tasks.scheduler import run_scheduler
from example_service.tasks.worker import run_worker
from tests.conftest import LogCapture
from tests.servers import RedisServer, free_port
from tests.tasks.processes import until
from tests.tasks.sample_tasks import RECORD, RecordArgs, effects

pytestmark = pytest.mark.redis


@pytest.fixture
def settings(redis_server: RedisServer, effects_url: str) -> Settings:
    tag = uuid.uuid4().hex[:8]
    built = Settings(
        redis=RedisSettings(url=SecretStr(redis_server.url)),
        database=DatabaseSettings(url=SecretStr(effects_url)),
        tasks=TasksSettings(
            queue=f"tasks-{tag}", prefix=f"tasks-{tag}:", modules=["tests.tasks.sample_tasks"]
        ),
    )
    configure_logging(built.log)  # as the worker's command does; into the test's capture
    return built


@pytest.fixture
async def sender(settings: Settings) -> AsyncIterator[TaskRuntime]:
    async with AsyncExitStack() as stack:
        engine = create_engine(settings.database)
        stack.push_async_callback(engine.dispose)
        yield await build_runtime(settings, create_session_factory(engine), stack)


async def test_the_worker_runs_tasks_until_stopped_and_deletes_finished_messages(
    settings: Settings, sender: TaskRuntime, effects_url: str, logs: LogCapture
) -> None:
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(settings, stop))
    await sender.enqueue(RECORD, RecordArgs(marker="a"))
    await sender.enqueue(RECORD, {"marker": "b"})
    await until(lambda: _count(effects_url, 2), "both effects")
    stop.set()
    await asyncio.wait_for(worker, 30)
    assert sorted(await effects(effects_url)) == [("a", 1), ("b", 1)]
    assert await sender.stats() == {"queued": 0, "running": 0, "failed": 0, "done": 2}
    assert sender.redis is not None
    assert await sender.redis.execute("XLEN", settings.tasks.queue) == 0
    [stopped] = logs.events("worker.stopped")
    assert stopped["handed_back"] == 0


async def _count(url: str, count: int) -> bool:
    return len(await effects(url)) >= count


async def test_a_stopping_consumer_hands_back_what_it_read(redis_server: RedisServer) -> None:
    queue = f"handback-{uuid.uuid4().hex[:8]}"

    def broker(idle_ms: int) -> StreamBroker:
        return _consumer(redis_server, queue, block_ms=100, idle_ms=idle_ms)

    sender = broker(60_000)
    for i in range(3):
        await sender.kick(_message(sender, f"m{i}"))
    first = broker(60_000)
    await first.startup()
    listening = first.listen()
    taken = await anext(listening)  # one batch read: all three now belong to `first`
    await listening.aclose()
    assert taken.data
    assert await first.release() == 3

    # Another consumer gets them at once, though they were read a moment ago and the
    # redelivery delay is a minute.
    second = broker(60_000)
    await second.startup()
    got = []
    listening = second.listen()
    while len(got) < 3:
        got.append(await asyncio.wait_for(anext(listening), 5))
    await listening.aclose()
    for message in got:
        await message.ack()
    assert len({bytes(m.data) for m in got}) == 3
    for made in (sender, first, second):
        await made.shutdown()


async def test_a_read_the_stop_interrupts_still_completes_and_what_it_took_is_handed_back(
    redis_server: RedisServer,
) -> None:
    # The receiver of a stopping worker cancels the listener's pending read. The cancellation
    # ends the listener but not the read (redis-py was seen to hang when cancelled mid-read):
    # the read completes on its own, and a message it takes is handed back, not stranded
    # until the redelivery delay.
    queue = f"interrupted-{uuid.uuid4().hex[:8]}"
    consumer = _consumer(redis_server, queue, block_ms=3000, idle_ms=60_000)
    await consumer.startup()
    listening = consumer.listen()
    reading = asyncio.ensure_future(anext(listening))
    await asyncio.sleep(0.2)  # XREADGROUP is blocking on the empty stream
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reading
    await consumer.kick(_message(consumer, "late"))  # taken by the read still blocking
    assert await consumer.release() == 1
    redis = Redis.from_url(redis_server.url)
    [held] = await redis.xpending_range(queue, GROUP, min="-", max="+", count=10)
    assert held["time_since_delivered"] >= 60_000  # idle: the next worker claims it at once
    await redis.aclose()
    await consumer.shutdown()


def _consumer(server: RedisServer, queue: str, *, block_ms: int, idle_ms: int) -> StreamBroker:
    """A worker's stream broker on `queue`, as tasks/broker.py builds it."""
    made = StreamBroker(
        server.url,
        queue_name=queue,
        consumer_group_name=GROUP,
        consumer_id="0",
        xread_block=block_ms,
        idle_timeout=idle_ms,
    )
    made.is_worker_process = True
    return made


def _message(broker: StreamBroker, marker: str) -> object:
    from taskiq.message import BrokerMessage  # noqa: PLC0415

    return BrokerMessage(task_id=marker, task_name="x", message=marker.encode(), labels={})


async def test_dead_letters_in_redis(redis_layer: object) -> None:
    letters = RedisDeadLetters(redis_layer, f"dl-{uuid.uuid4().hex[:8]}:")  # type: ignore[arg-type]
    for i, failed_at in enumerate([10.0, 30.0, 20.0]):
        await letters.add(
            DeadLetter(
                id=f"t{i}",
                task="x",
                args={"n": i},
                idempotency_key=f"t{i}",
                request_id=None,
                attempts=1,
                error="E: boom",
                failed_at=failed_at,
            )
        )
    assert [letter.id for letter in await letters.list()] == ["t1", "t2", "t0"]
    assert [letter.id for letter in await letters.list(limit=1)] == ["t1"]
    popped = await letters.pop("t2")
    assert popped is not None
    assert popped.args == {"n": 2}
    assert await letters.pop("t2") is None
    assert (await letters.count(), await letters.total()) == (2, 3)


async def test_the_scheduler_starts_with_the_schedules_and_stops(
    settings: Settings, logs: LogCapture
) -> None:
    stop = asyncio.Event()
    stop.set()  # stop at once: start-up and shutdown only
    await asyncio.wait_for(run_scheduler(settings, stop), 30)
    [started] = logs.events("scheduler.started")
    assert started["schedules"] == {"auth.purge_sessions": "17 * * * *"}
    assert logs.events("scheduler.stopped")


async def test_the_worker_serves_its_metrics_on_its_own_port(
    settings: Settings, sender: TaskRuntime
) -> None:
    port = free_port()
    metered = settings.model_copy(
        update={"telemetry": TelemetrySettings(mode="prometheus", metrics_port=port)}
    )
    stop = asyncio.Event()
    worker = asyncio.create_task(run_worker(metered, stop))
    try:
        await sender.enqueue(RECORD, RecordArgs(marker="m"))

        async def scraped() -> str:
            async with httpx.AsyncClient() as client:
                with contextlib.suppress(httpx.TransportError):
                    text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
                    if 'tasks_completed_total{status="ok",task="test.record"} 1.0' in text:
                        return text
            return ""

        text = await until(scraped, "the worker's metrics")
        assert 'task_duration_seconds_count{task="test.record"} 1.0' in text
    finally:
        stop.set()
        await asyncio.wait_for(worker, 30)
