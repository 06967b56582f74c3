"""Write-behind: a write is acknowledged once queued, and reaches the source in batches.

A background flusher takes up to `batch_size` queued items every `interval` seconds (sooner
when a batch is full) and hands them to `flush`, the source write. A failed flush is retried
with backoff (stamina) and its items stay queued until one succeeds: never dropped. At shutdown
(`aclose`, from the lifespan on SIGTERM) everything queued is flushed before the process exits.

The queue decides what a crash loses:
- `MemoryQueue`: a process killed without shutdown (kill -9, OOM) loses what was
  queued and not yet flushed: at most `interval` seconds of writes (or `batch_size`, whichever
  comes first). For development, or data you can lose.
# part: redis
- `RedisStreamQueue` (`behind_redis.py`): items live in a Redis stream until the flush that
  wrote them is acknowledged; a crashed process's items are claimed by the next one.
# end part: redis
Flushes must be idempotent (an upsert): after a crash between the write and its acknowledgement
the same items are flushed again.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Generic, Protocol, TypeVar

import stamina
from pydantic import BaseModel

from example_service.observability.logging import get_logger

M = TypeVar("M", bound=BaseModel)
logger = get_logger("example_service.cache")


class WriteQueue(Protocol):
    async def put(self, payload: bytes) -> None: ...

    async def take(self, max_items: int) -> list[tuple[str, bytes]]:
        """Up to `max_items` (id, payload), oldest first; those taken before and not `done`
        come again first."""
        ...

    async def done(self, ids: list[str]) -> None: ...

    async def size(self) -> int: ...


class MemoryQueue:
    def __init__(self) -> None:
        self._queued: deque[tuple[str, bytes]] = deque()
        self._taken: list[tuple[str, bytes]] = []
        self._ids = itertools.count()

    async def put(self, payload: bytes) -> None:
        self._queued.append((str(next(self._ids)), payload))

    async def take(self, max_items: int) -> list[tuple[str, bytes]]:
        while len(self._taken) < max_items and self._queued:
            self._taken.append(self._queued.popleft())
        return self._taken[:max_items]

    async def done(self, ids: list[str]) -> None:
        finished = set(ids)
        self._taken = [item for item in self._taken if item[0] not in finished]

    async def size(self) -> int:
        return len(self._queued) + len(self._taken)


class WriteBehind(Generic[M]):
    def __init__(
        self,
        queue: WriteQueue,
        model: type[M],
        flush: Callable[[list[M]], Awaitable[None]],
        *,
        batch_size: int = 100,
        interval: float = 0.5,
        retry_wait_max: float = 5.0,
    ) -> None:
        self.queue = queue
        self.model = model
        self.flush = flush
        self.batch_size = batch_size
        self.interval = interval
        self.retry_wait_max = retry_wait_max
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._queued_since_wake = 0
        self.flushed = 0

    async def write(self, item: M) -> None:
        """Queue `item` for the source; returns once it is queued (durably, with Redis)."""
        await self.queue.put(item.model_dump_json().encode())
        self._queued_since_wake += 1
        if self._queued_since_wake >= self.batch_size:
            self._wake.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def aclose(self) -> None:
        """Stop the flusher, then flush everything still queued."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        while await self.flush_once():
            pass

    async def flush_once(self) -> int:
        """One batch to the source, retried until it goes through; how many items it held."""
        batch = await self.queue.take(self.batch_size)
        if not batch:
            return 0
        items = [self.model.model_validate_json(payload) for _, payload in batch]
        async for attempt in stamina.retry_context(
            on=Exception, attempts=None, timeout=None, wait_max=self.retry_wait_max
        ):
            with attempt:
                await self.flush(items)
        await self.queue.done([item_id for item_id, _ in batch])
        self.flushed += len(items)
        return len(items)

    async def _run(self) -> None:
        while True:
            try:
                while await self.flush_once() == self.batch_size:
                    pass  # a full batch: more may be waiting
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the items stay queued; try again later
                logger.warning("cache.write_behind_failed", error=type(exc).__name__)
            self._queued_since_wake = 0
            self._wake.clear()
            with contextlib.suppress(TimeoutError):  # woken early by a full batch, or not
                await asyncio.wait_for(self._wake.wait(), self.interval)
