"""No-op task throughput, ours against plain taskiq, and what sending costs:
`python -m bench.tasks [--redis-url URL] [--tasks N] [--rounds R]`.

Both sides use the same broker (taskiq-redis's stream broker, Redis result backend) on a local
redis-server (started here unless --redis-url names one), and one receiver with the worker's
options (10 tasks at once, acknowledged after the result is stored). Each round fills a fresh
stream with N messages, then times the receiver until the N-th task has run; rows alternate
round by round and each figure is the median. Ours adds the runner (validation, logs with the
request id, deadline, the retry policy, metrics). Sending: sequential `enqueue` (with
validation of the arguments) against a bare `kiq()`, per call, Redis round trip included.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack

from pydantic import BaseModel, SecretStr
from taskiq.acks import AcknowledgeType
from taskiq.receiver import Receiver
from taskiq_redis import RedisAsyncResultBackend, RedisStreamBroker

from bench.cache import redis_server
from example_service.db.engine import create_engine, create_session_factory
from example_service.observability.logging import configure_logging
from example_service.settings import (
    DatabaseSettings,
    LogSettings,
    RedisSettings,
    Settings,
    TasksSettings,
)
from example_service.tasks.broker import build_runtime
from example_service.tasks.context import TaskContext
from example_service.tasks.registry import register_task

CONCURRENCY = 10


class Counter:
    def __init__(self, target: int) -> None:
        self.target = target
        self.count = 0
        self.done = asyncio.Event()

    def hit(self) -> None:
        self.count += 1
        if self.count == self.target:
            self.done.set()


COUNTER = Counter(0)


class NoArgs(BaseModel):
    pass


@register_task("bench.noop", NoArgs)
async def ours_noop(_: NoArgs, _context: TaskContext) -> None:
    COUNTER.hit()


async def drain(broker: object, target: int) -> tuple[float, float]:
    """Seconds the receiver takes to run `target` queued tasks: wall clock, and this process's
    CPU (less disturbed by other load on a shared machine)."""
    global COUNTER  # noqa: PLW0603 - the tasks are module-level functions
    COUNTER = Counter(target)
    with ThreadPoolExecutor(max_workers=1) as executor:
        receiver = Receiver(
            broker=broker,  # type: ignore[arg-type]
            executor=executor,
            max_async_tasks=CONCURRENCY,
            ack_type=AcknowledgeType.WHEN_SAVED,
            run_startup=False,
        )
        stop = asyncio.Event()
        started, cpu = time.perf_counter(), time.process_time()
        listening = asyncio.create_task(receiver.listen(stop))
        await COUNTER.done.wait()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        stop.set()
        await listening
    return elapsed, cpu


Round = tuple[float, float, float, float]  # tasks/s, CPU us per task, send us, send CPU us


async def plain_round(url: str, count: int) -> Round:
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    broker = RedisStreamBroker(
        url, queue_name=queue, consumer_group_name="workers", consumer_id="0"
    ).with_result_backend(RedisAsyncResultBackend(url, result_ex_time=3600))

    async def plain_noop() -> None:
        COUNTER.hit()

    task = broker.register_task(plain_noop, task_name="bench.plain")
    await broker.startup()
    send = await per_call(task.kiq, count)
    broker.is_worker_process = True
    await broker.startup()  # the consumer group
    seconds, cpu = await drain(broker, count)
    await broker.shutdown()
    return count / seconds, cpu / count * 1e6, *send


async def ours_round(url: str, count: int, database: str) -> Round:
    settings = Settings(
        redis=RedisSettings(url=SecretStr(url)),
        database=DatabaseSettings(url=SecretStr(database)),
        tasks=TasksSettings(queue=f"bench-{uuid.uuid4().hex[:8]}", prefix="bench:"),
    )
    async with AsyncExitStack() as stack:
        engine = create_engine(settings.database)
        stack.push_async_callback(engine.dispose)
        sender = await build_runtime(settings, create_session_factory(engine), stack)
        send = await per_call(lambda: sender.enqueue("bench.noop", NoArgs()), count)
        worker = await build_runtime(settings, create_session_factory(engine), stack, worker=True)
        seconds, cpu = await drain(worker.broker, count)
    return count / seconds, cpu / count * 1e6, *send


async def per_call(call: Callable[[], Awaitable[object]], count: int) -> tuple[float, float]:
    """Microseconds per call: wall clock, and this process's CPU."""
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        await call()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return elapsed / count * 1e6, cpu / count * 1e6


async def main(url: str, count: int, rounds: int) -> None:
    # The worker's logging (JSON lines), written to /dev/null; taskiq's own INFO lines off on
    # both sides (build_runtime turns them off in the service).
    configure_logging(LogSettings(), open(os.devnull, "wb"))  # noqa: SIM115, ASYNC230 - the process's lifetime
    logging.getLogger("taskiq").setLevel(logging.WARNING)
    database = f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.db"  # never queried by no-ops
    plain: list[Round] = []
    ours: list[Round] = []
    for _ in range(rounds):
        plain.append(await plain_round(url, count))
        ours.append(await ours_round(url, count, database))

    def median(rows: list[Round], column: int) -> float:
        return statistics.median(row[column] for row in rows)

    p_rate, o_rate = median(plain, 0), median(ours, 0)
    p_cpu, o_cpu = median(plain, 1), median(ours, 1)
    print(f"no-op tasks, one receiver, {CONCURRENCY} at once, {count} tasks x {rounds} rounds")
    print(f"  plain taskiq   {p_rate:7.0f} tasks/s   {p_cpu:6.1f} us CPU a task")
    print(f"  ours           {o_rate:7.0f} tasks/s   {o_cpu:6.1f} us CPU a task")
    print(f"  ratio          {o_rate / p_rate:7.2f}x throughput, {p_cpu / o_cpu:.2f}x by CPU")
    p_send, o_send = median(plain, 2), median(ours, 2)
    p_send_cpu, o_send_cpu = median(plain, 3), median(ours, 3)
    print("send, per call (one Redis round trip included)")
    print(f"  plain kiq()    {p_send:6.1f} us   {p_send_cpu:6.1f} us CPU")
    print(f"  ours enqueue() {o_send:6.1f} us   {o_send_cpu:6.1f} us CPU")
    print(f"  added          {o_send - p_send:6.1f} us   {o_send_cpu - p_send_cpu:6.1f} us CPU")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--redis-url")
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    with redis_server(options.redis_url) as redis_url:
        asyncio.run(main(redis_url, options.tasks, options.rounds))
