"""The in-process backend: the dead letters of this process only."""

from __future__ import annotations

from example_service.tasks.base import DeadLetter


class MemoryDeadLetters:
    def __init__(self) -> None:
        self._letters: dict[str, DeadLetter] = {}
        self._total = 0

    async def add(self, letter: DeadLetter) -> None:
        self._letters[letter.id] = letter
        self._total += 1

    async def list(self, limit: int = 100) -> list[DeadLetter]:
        return sorted(self._letters.values(), key=lambda d: d.failed_at, reverse=True)[:limit]

    async def pop(self, letter_id: str) -> DeadLetter | None:
        return self._letters.pop(letter_id, None)

    async def count(self) -> int:
        return len(self._letters)

    async def total(self) -> int:
        return self._total
