"""What a running task gets besides its arguments: who it is, and its resources."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from example_service.tasks.idempotency import apply_once

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from example_service.settings import Settings
    from example_service.tasks.email import Emailer

T = TypeVar("T")


@dataclass(slots=True)
class TaskContext:
    task_id: str
    name: str
    attempt: int  # 1 for the first
    idempotency_key: str
    request_id: str | None
    settings: Settings
    session_factory: async_sessionmaker[AsyncSession]
    emailer: Emailer
    applied: bool = False  # set by `apply_once`: the runner need not record the key again
    duplicate: bool = False  # `apply_once` found the key: an earlier delivery took effect

    async def apply_once(self, effect: Callable[[AsyncSession], Awaitable[T]]) -> bool:
        """Run `effect` in one transaction with the record of this task's idempotency key.

        Both commit or neither does, so a redelivered task (a worker killed after the effect,
        before the broker heard of it) finds the key and does not apply the effect again.
        Returns False when the key was already recorded (nothing done).
        """
        done = await apply_once(self.session_factory, self.idempotency_key, self.name, effect)
        self.applied = True
        self.duplicate = self.duplicate or not done
        return done
