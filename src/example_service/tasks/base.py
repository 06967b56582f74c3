"""Dead letters: tasks that failed for good, kept until requeued or dropped.

One Protocol, an in-process store (`memory.py`) and a Redis one (`redis.py`), chosen at
startup with the broker.
"""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel


class DeadLetter(BaseModel):
    id: str  # the task id of the failed run
    task: str
    args: dict[str, Any]
    idempotency_key: str
    request_id: str | None
    attempts: int
    error: str  # the exception type and message
    failed_at: float  # Unix time


class DeadLetters(Protocol):
    async def add(self, letter: DeadLetter) -> None: ...

    async def list(self, limit: int = 100) -> list[DeadLetter]:
        """Most recent first."""
        ...

    async def pop(self, letter_id: str) -> DeadLetter | None:
        """Remove and return one (None: no such letter)."""
        ...

    async def count(self) -> int:
        """Letters waiting for an operator."""
        ...

    async def total(self) -> int:
        """Tasks dead-lettered since the store began (requeued ones included)."""
        ...
