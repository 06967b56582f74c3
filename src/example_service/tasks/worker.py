"""`example-service worker`: runs the tasks of the Redis stream until SIGTERM.

Up to TASKS_CONCURRENCY tasks at once (taskiq's receiver, in this event loop). A message is
acknowledged when its task has finished, so a worker killed mid-task (kill -9, OOM, a lost
machine) leaves it to another worker after TASKS_REDELIVER_AFTER_SECONDS. SIGTERM (or Ctrl-C)
stops taking messages (one whose read was completing at that instant still runs: it was
delivered), lets the running tasks finish for up to TASKS_SHUTDOWN_TIMEOUT_SECONDS, hands back
what it read and did not start, and exits 0; tasks still running then are delivered again.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from typing import Any

from example_service.db.engine import create_engine, create_session_factory
from example_service.observability.logging import get_logger
from example_service.settings import Settings
from example_service.tasks.broker import build_runtime
from example_service.tasks.metrics import TaskMetrics
from example_service.tasks.registry import load_task_modules

logger = get_logger("example_service.tasks")


STOP_GRACE_SECONDS = 1.0  # beyond TASKS_SHUTDOWN_TIMEOUT_SECONDS, for the receiver to wind down


def stop_on_signals() -> asyncio.Event:
    """An event set by the first SIGTERM or SIGINT (logged: `worker.stopping`)."""
    stop = asyncio.Event()

    def stopping(sig: signal.Signals) -> None:
        if not stop.is_set():
            logger.info("worker.stopping", signal=sig.name)
            stop.set()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping, sig)
    return stop


async def run_worker(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run tasks until `stop` is set (default: until SIGTERM or SIGINT)."""
    from taskiq.acks import AcknowledgeType  # noqa: PLC0415
    from taskiq.receiver import Receiver  # noqa: PLC0415

    load_task_modules(settings.tasks.modules)
    if stop is None:
        stop = stop_on_signals()
    async with AsyncExitStack() as stack:
        engine = create_engine(settings.database)
        stack.push_async_callback(engine.dispose)
        metrics = TaskMetrics(_metrics_registry(settings, stack))
        runtime = await build_runtime(
            settings, create_session_factory(engine), stack, worker=True, metrics=metrics
        )
        executor = stack.enter_context(ThreadPoolExecutor(max_workers=1))  # no sync tasks
        receiver = Receiver(
            broker=runtime.broker,
            executor=executor,
            max_async_tasks=settings.tasks.concurrency,
            run_startup=False,  # build_runtime started the broker
            # Acknowledged once the task has finished and its result is stored.
            ack_type=AcknowledgeType.WHEN_SAVED,
            wait_tasks_timeout=settings.tasks.shutdown_timeout_seconds,
        )
        logger.info(
            "worker.started",
            queue=settings.tasks.queue,
            concurrency=settings.tasks.concurrency,
            tasks=sorted(runtime.specs),
        )
        await _listen(receiver, stop, settings.tasks.shutdown_timeout_seconds)
        release = getattr(runtime.broker, "release", None)  # the stream broker's
        released = await release() if release is not None else 0
        logger.info("worker.stopped", handed_back=released)


async def _listen(receiver: Any, stop: asyncio.Event, shutdown_timeout: float) -> None:
    """The receiver's loop, bounded once `stop` is set: it must end within the shutdown timeout
    and STOP_GRACE_SECONDS more. taskiq's receiver has been seen to hang while closing its
    pending read when the stop came just after a task started; the worker then stops it
    itself, and what it still held is handed back like any task past the timeout."""
    listening = asyncio.ensure_future(receiver.listen(stop))
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({listening, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not listening.done():
            try:
                await asyncio.wait_for(
                    asyncio.shield(listening), shutdown_timeout + STOP_GRACE_SECONDS
                )
            except TimeoutError:
                listening.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listening
                logger.warning("worker.stop_forced", after_seconds=shutdown_timeout)
                return
        listening.result()  # an error of the receiver's own is raised here
    finally:
        stopping.cancel()


def _metrics_registry(settings: Settings, stack: AsyncExitStack) -> object | None:
    """With TELEMETRY_MODE=prometheus and TELEMETRY_METRICS_PORT: the worker's own listener."""
    telemetry = settings.telemetry
    if telemetry.mode != "prometheus" or telemetry.metrics_port is None:
        return None
    from prometheus_client import CollectorRegistry  # noqa: PLC0415

    from example_service.observability.metrics import start_metrics_listener  # noqa: PLC0415

    registry = CollectorRegistry()
    stop = start_metrics_listener(registry, telemetry)
    if stop is not None:
        stack.callback(stop)
    return registry
