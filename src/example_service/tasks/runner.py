"""How one delivery of a task runs: validated arguments, the idempotency check, attempts with
backoff under a deadline, then either the key recorded or a dead letter.

A run never raises into taskiq: its outcome is recorded here (metrics, dead letters,
logs), and the broker acknowledges the message once this returns. A worker killed before that
leaves the message unacknowledged, and another worker runs it again (at least once); the
idempotency key makes that second run a no-op for effects recorded with `apply_once`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import stamina
import structlog
from pydantic import ValidationError
from taskiq import Context, TaskiqDepends, TaskiqMessage

from example_service.observability.context import request_id_var
from example_service.observability.logging import get_logger
from example_service.resilience.retry import RetryPolicy, retry_after_first
from example_service.tasks.base import DeadLetter
from example_service.tasks.context import TaskContext
from example_service.tasks.errors import RetryableTaskError
from example_service.tasks.idempotency import already_applied, record

if TYPE_CHECKING:
    from example_service.tasks.registry import TaskSpec
    from example_service.tasks.runtime import TaskRuntime

logger = get_logger("example_service.tasks")

__all__ = ["RetryableTaskError", "execute", "retryable", "taskiq_function"]

DEAD_LETTER_PATIENCE = 30.0  # seconds


def retryable(exc: BaseException) -> bool:
    """Errors that say a dependency may answer next time: never a bug or bad arguments."""
    if isinstance(exc, RetryableTaskError | TimeoutError | ConnectionError | OSError):
        return True
    from sqlalchemy.exc import DBAPIError, OperationalError  # noqa: PLC0415 - loaded already

    return isinstance(exc, OperationalError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )


def taskiq_function(runtime: TaskRuntime, spec: TaskSpec[Any]) -> Any:
    """The function taskiq registers for `spec`: the payload, and taskiq's message context."""

    async def run(payload: dict[str, Any], context: Annotated[Context, TaskiqDepends()]) -> str:
        return await execute(runtime, spec, payload, context.message)

    run.__name__ = spec.name
    return run


@dataclass(frozen=True, slots=True)
class Delivery:
    task_id: str
    key: str  # the idempotency key: the sender's, else the task id
    chosen: bool  # the sender chose the key (the same key may come in several messages)
    request_id: str | None
    payload: dict[str, Any]


async def execute(
    runtime: TaskRuntime, spec: TaskSpec[Any], payload: dict[str, Any], message: TaskiqMessage
) -> str:
    labels = message.labels
    request_id = str(labels.get("request_id") or "") or None
    chosen = str(labels.get("idempotency_key") or "")
    delivery = Delivery(
        message.task_id, chosen or message.task_id, bool(chosen), request_id, payload
    )
    request_id_var.set(request_id)  # this delivery's own asyncio task: no reset needed
    with structlog.contextvars.bound_contextvars(task=spec.name, task_id=message.task_id):
        started = time.perf_counter()
        status = await _run(runtime, spec, delivery)
        elapsed = time.perf_counter() - started
        runtime.metrics.completed(spec.name, status, elapsed)
        logger.info("task.finished", status=status, duration_ms=round(elapsed * 1000, 1))
        return status


async def _run(runtime: TaskRuntime, spec: TaskSpec[Any], delivery: Delivery) -> str:
    attempts = _Attempts(runtime, spec, delivery)
    try:
        context = await attempts.run()
    except Exception as exc:  # noqa: BLE001 - every failure ends in a dead letter
        # (CancelledError is not caught: a shutdown past its deadline leaves the message
        # unacknowledged, to be delivered again.)
        await _dead_letter(runtime, spec, delivery, attempts.made, exc)
        return "failed"
    if context is None:
        logger.info("task.duplicate", idempotency_key=delivery.key)
        return "duplicate"
    if delivery.chosen and not context.applied:
        try:
            await record(runtime.session_factory, delivery.key, spec.name)
        except Exception as exc:  # noqa: BLE001 - the effect happened: not a failed task
            # Only a second message with the same key could repeat the effect now.
            logger.warning("task.record_failed", error=type(exc).__name__)
    return "duplicate" if context.duplicate else "ok"


class _Attempts:
    """A task's attempts: each under its deadline, retried with backoff on retryable errors."""

    def __init__(self, runtime: TaskRuntime, spec: TaskSpec[Any], delivery: Delivery) -> None:
        settings = runtime.settings.tasks
        self.runtime = runtime
        self.spec = spec
        self.delivery = delivery
        self.timeout = spec.timeout if spec.timeout is not None else settings.timeout_seconds
        retries = spec.retries if spec.retries is not None else settings.max_retries
        self.policy = RetryPolicy(
            attempts=retries + 1,
            timeout=None,  # each attempt has its own deadline
            wait_initial=settings.retry_wait_initial_seconds,
            wait_max=settings.retry_wait_max_seconds,
            wait_jitter=settings.retry_wait_initial_seconds,
        )
        self.made = 0

    async def once(self, args: Any) -> TaskContext | None:
        """One attempt; None when the sender's key shows an earlier message took effect.

        That key is looked up first (the same key may arrive in several messages), inside the
        attempt so that a database that is down is retried like any attempt. A task id arrives
        again only after a crash, and `apply_once` detects that itself: no database round trip
        for every task."""
        self.made += 1
        runtime, delivery = self.runtime, self.delivery
        if delivery.chosen and await already_applied(runtime.session_factory, delivery.key):
            return None
        context = TaskContext(
            delivery.task_id,
            self.spec.name,
            self.made,
            delivery.key,
            delivery.request_id,
            runtime.settings,
            runtime.session_factory,
            runtime.emailer,
        )
        logger.debug("task.started", attempt=self.made)
        async with asyncio.timeout(self.timeout):
            await self.spec.function(args, context)
        return context

    async def run(self) -> TaskContext | None:
        args = self.spec.args.model_validate(self.delivery.payload)
        return await retry_after_first(lambda: self.once(args), self.policy, retryable)


async def _dead_letter(
    runtime: TaskRuntime, spec: TaskSpec[Any], delivery: Delivery, attempts: int, exc: Exception
) -> None:
    reason = "invalid arguments" if isinstance(exc, ValidationError) else type(exc).__name__
    logger.error("task.dead_lettered", attempts=attempts, error=reason, exc_info=exc)
    letter = DeadLetter(
        id=delivery.task_id,
        task=spec.name,
        args=delivery.payload,
        idempotency_key=delivery.key,
        request_id=delivery.request_id,
        attempts=attempts,
        error=f"{type(exc).__name__}: {exc}"[:2000],
        failed_at=time.time(),
    )
    # The message is acknowledged once this returns: the letter must be stored first. The
    # store's Redis layer fails fast while its breaker is open after a blip, so it is retried
    # for up to DEAD_LETTER_PATIENCE seconds before the loss is logged.
    try:
        async for attempt in stamina.retry_context(
            on=Exception, attempts=None, timeout=DEAD_LETTER_PATIENCE, wait_max=2.0
        ):
            with attempt:
                await runtime.dead_letters.add(letter)
    except Exception as error:  # noqa: BLE001 - said loudly, once
        logger.error("task.dead_letter_lost", error=type(error).__name__)
