"""The in-process backends: dead letters and counters of this process only."""

from __future__ import annotations

from collections import Counter

from example_service.tasks.base import DeadLetter


class MemoryDeadLetters:
    def __init__(self) -> None:
        self._letters: dict[str, DeadLetter] = {}

    async def add(self, letter: DeadLetter) -> None:
        self._letters[letter.id] = letter

    async def list(self, limit: int = 100) -> list[DeadLetter]:
        return sorted(self._letters.values(), key=lambda d: d.failed_at, reverse=True)[:limit]

    async def pop(self, letter_id: str) -> DeadLetter | None:
        return self._letters.pop(letter_id, None)

    async def count(self) -> int:
        return len(self._letters)


class MemoryCounters:
    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()

    async def incr(self, status: str) -> None:
        self._counts[status] += 1

    async def read(self) -> dict[str, int]:
        return dict(self._counts)
