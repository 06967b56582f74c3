"""The broker and the stores beside it, built from settings when a process starts.

Tasks run inside the process that enqueues them, on taskiq's in-memory broker: nothing to run
beside `serve`, and nothing survives a restart (development only).
# part: redis

That is without a broker URL (TASKS_BROKER_URL, else REDIS_URL). With one, tasks go to a Redis
stream that `worker` processes read; dead letters live in the same Redis.
# end part: redis
"""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any

from example_service.tasks.base import DeadLetters
from example_service.tasks.email import build_emailer
from example_service.tasks.memory import MemoryDeadLetters
from example_service.tasks.metrics import TaskMetrics
from example_service.tasks.registry import registered
from example_service.tasks.runner import taskiq_function
from example_service.tasks.runtime import TaskRuntime

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
    from taskiq import AsyncBroker

    from example_service.settings import Settings


# part: redis
def _stream_broker(settings: Settings, url: str) -> AsyncBroker:
    from taskiq_redis import RedisAsyncResultBackend  # noqa: PLC0415 - with Redis only

    from example_service.tasks.redis import GROUP, StreamBroker  # noqa: PLC0415

    tasks = settings.tasks
    return StreamBroker(
        url,
        queue_name=tasks.queue,
        consumer_group_name=GROUP,
        consumer_id="0",  # a group created after tasks were sent still reads them
        xread_block=1000,  # ms: how soon a stopping worker notices it has nothing to read
        idle_timeout=int(tasks.redeliver_after_seconds * 1000),
        max_connection_pool_size=tasks.concurrency + 4,
        # Enqueuing waits at most this long for Redis to accept a connection; a reply (the
        # worker's blocking read included) at most 5 s.
        socket_connect_timeout=settings.redis.connect_timeout_seconds,
        socket_timeout=5.0,
    ).with_result_backend(
        RedisAsyncResultBackend(
            url, result_ex_time=tasks.result_ttl_seconds, prefix_str=tasks.prefix + "result"
        )
    )


# end part: redis


async def build_runtime(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    stack: AsyncExitStack,
    *,
    worker: bool = False,
    metrics: TaskMetrics | None = None,
) -> TaskRuntime:
    """Broker, stores and emailer for this process, closed by `stack` in reverse order."""
    from taskiq import InMemoryBroker  # noqa: PLC0415 - taskiq loads when tasks start

    # taskiq writes an INFO line per task received; ours (task.finished, with the request id)
    # say more, once.
    logging.getLogger("taskiq").setLevel(logging.WARNING)
    specs = registered()
    broker: AsyncBroker | None = None
    dead_letters: DeadLetters | None = None
    # part: redis
    layer = None
    url = settings.tasks_broker_url
    if url is not None:
        from example_service.redis.client import create_redis  # noqa: PLC0415
        from example_service.settings import RedisSettings  # noqa: PLC0415
        from example_service.tasks.redis import RedisDeadLetters  # noqa: PLC0415

        broker = _stream_broker(settings, url)
        # Dead letters, figures and readiness: off the request path, so a command may take
        # 2 s rather than REDIS_TIMEOUT_SECONDS (0.25).
        layer = create_redis(
            RedisSettings(url=url, timeout_seconds=2.0, connect_timeout_seconds=2.0)
        )
        assert layer is not None  # noqa: S101 - a URL was given
        stack.push_async_callback(layer.aclose)
        dead_letters = RedisDeadLetters(layer, settings.tasks.prefix)
    # end part: redis
    if broker is None or dead_letters is None:
        broker = InMemoryBroker(max_async_tasks=settings.tasks.concurrency)
        dead_letters = MemoryDeadLetters()
    broker.is_worker_process = worker
    runtime = TaskRuntime(
        settings=settings,
        broker=broker,
        specs=specs,
        session_factory=session_factory,
        emailer=build_emailer(settings.email),
        dead_letters=dead_letters,
        metrics=metrics or TaskMetrics(),
    )
    # part: redis
    runtime.redis = layer
    # end part: redis
    runtime.metrics.declare(sorted(specs))
    for spec in specs.values():
        broker.register_task(taskiq_function(runtime, spec), task_name=spec.name)
    await broker.startup()
    stack.push_async_callback(broker.shutdown)
    if isinstance(broker, InMemoryBroker):
        stack.push_async_callback(_drain, broker, settings.tasks.shutdown_timeout_seconds)
    return runtime


async def _drain(broker: Any, limit_s: float) -> None:
    """In-process tasks still running at shutdown: finished first, up to `limit_s` (then
    cancelled: in-process tasks are not durable)."""
    import asyncio  # noqa: PLC0415
    import contextlib  # noqa: PLC0415

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(broker.wait_all(), limit_s)
