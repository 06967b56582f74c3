"""The tasks of one process: broker, resources, and `enqueue` (the request path's side)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from example_service.errors.exceptions import (
    NotFoundError,
    ServiceUnavailableError,
    UnprocessableError,
)
from example_service.observability.context import current_request_id
from example_service.observability.logging import get_logger
from example_service.tasks.base import DeadLetter, DeadLetters
from example_service.tasks.metrics import TaskMetrics
from example_service.tasks.registry import TaskSpec

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
    from taskiq import AsyncBroker

    from example_service.settings import Settings
    from example_service.tasks.email import Emailer

# part: redis
if TYPE_CHECKING:
    from example_service.redis.client import RedisLayer
# end part: redis

logger = get_logger("example_service.tasks")


class UnknownTaskError(NotFoundError):
    default_detail = "No task has this name."


class TasksUnavailableError(ServiceUnavailableError):
    default_detail = "The task queue is unavailable; try again later."


def _field_errors(exc: ValidationError) -> list[tuple[str, str, str]]:
    return [
        (".".join(str(part) for part in error["loc"]) or "args", error["msg"], error["type"])
        for error in exc.errors(include_url=False)
    ]


@dataclass
class TaskRuntime:
    settings: Settings
    broker: AsyncBroker
    specs: dict[str, TaskSpec[Any]]
    session_factory: async_sessionmaker[AsyncSession]
    emailer: Emailer
    dead_letters: DeadLetters
    metrics: TaskMetrics = field(default_factory=TaskMetrics)
    # part: redis
    redis: RedisLayer | None = None  # None: the in-process broker, tasks run in this process
    # end part: redis

    @property
    def in_process(self) -> bool:
        # part: redis
        if self.redis is not None:  # noqa: SIM103 - without Redis this block goes (copier.yml)
            return False
        # end part: redis
        return True

    def validate(
        self, name: str, args: BaseModel | Mapping[str, Any], *, from_api: bool = False
    ) -> BaseModel:
        """`args` as the task's model; 404 for an unknown task (or, `from_api`, one not open
        to the API), 422 for bad arguments."""
        spec = self.specs.get(name)
        if spec is None or (from_api and not spec.api):
            raise UnknownTaskError(f"No task is named {name!r}.")
        if isinstance(args, spec.args):
            return args  # type: ignore[no-any-return]  # spec.args is type[Any]
        try:
            raw = args.model_dump() if isinstance(args, BaseModel) else args
            model: BaseModel = spec.args.model_validate(raw)
        except ValidationError as exc:
            raise UnprocessableError(_field_errors(exc)) from exc
        return model

    async def enqueue(
        self,
        name: str,
        args: BaseModel | Mapping[str, Any],
        *,
        idempotency_key: str | None = None,
        from_api: bool = False,
    ) -> str:
        """Send task `name`; its id. Arguments are validated here, in the caller's process.
        `from_api`: sent on a client's behalf (POST /tasks/{name}): only tasks registered with
        `api=True`."""
        model = self.validate(name, args, from_api=from_api)
        return await self._send(name, model.model_dump(mode="json"), idempotency_key)

    async def enqueue_task(self, name: str, /, **args: Any) -> str:
        """`enqueue` with the arguments as keywords: `enqueue_task("send_email", to=...)`, as
        other templates spell it."""
        return await self.enqueue(name, args)

    async def requeue(self, letter: DeadLetter) -> str:
        """Send a dead letter's task again, under its idempotency key."""
        return await self._send(letter.task, letter.args, letter.idempotency_key, letter.request_id)

    async def _send(
        self,
        name: str,
        payload: dict[str, Any],
        idempotency_key: str | None,
        request_id: str | None = None,
    ) -> str:
        task = self.broker.find_task(name)
        if task is None:  # registered after the broker was built
            raise UnknownTaskError(f"No task is named {name!r}.")
        labels = {
            "request_id": request_id or current_request_id() or "",
            "idempotency_key": idempotency_key or "",
        }
        try:
            sent = await task.kicker().with_labels(**labels).kiq(payload=payload)
        except Exception as exc:  # redis's errors, without importing redis here
            logger.warning("task.enqueue_failed", task=name, error=type(exc).__name__)
            raise TasksUnavailableError() from exc
        self.metrics.enqueued(name)
        # Debug: the worker's `task.finished` line carries this request's id.
        logger.debug("task.enqueued", task=name, task_id=sent.task_id)
        return sent.task_id

    async def idle(self) -> None:
        """Return once the tasks this process runs itself (in-process broker) have finished."""
        wait_all = getattr(self.broker, "wait_all", None)  # InMemoryBroker's
        if wait_all is not None:
            await wait_all()

    # part: redis
    async def stats(self) -> dict[str, int]:
        """queued, running, failed (dead letters waiting), done (finished other than in a dead
        letter: succeeded, or found applied already) — with a broker only."""
        from example_service.tasks.redis import queue_state  # noqa: PLC0415

        if self.redis is None:
            raise RuntimeError("the in-process broker keeps no shared figures")
        state = await queue_state(self.redis, self.settings.tasks.queue)
        finished = state["read"] - state["running"]
        return {
            "queued": state["queued"],
            "running": state["running"],
            "failed": await self.dead_letters.count(),
            "done": max(0, finished - await self.dead_letters.total()),
        }

    # end part: redis
