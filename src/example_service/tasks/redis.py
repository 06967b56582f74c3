"""The Redis side of the tasks: the stream broker, dead letters, the queue's figures.

The broker is taskiq-redis's stream broker (a consumer group over one stream; a message is
acknowledged after its task finished), with one change to how it listens: taskiq-redis claims
the messages of a dead worker only after a read that returned new messages, so on a quiet
queue a killed worker's task would wait for the next enqueue. Here every read, empty or not,
is followed by a claim of messages unacknowledged for TASKS_REDELIVER_AFTER_SECONDS; and a
stopping worker hands back at once what it read but will not run (`release`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable
from importlib.resources import files
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from taskiq import AckableMessage, AsyncBroker
from taskiq_redis import RedisStreamBroker

from example_service.redis.client import RedisLayer
from example_service.resilience.errors import BackendUnavailable
from example_service.tasks.base import DeadLetter

GROUP = "workers"


def _ack_script() -> str:
    return files("example_service.tasks").joinpath("ack.lua").read_text()


class StreamBroker(RedisStreamBroker):
    _acker: AsyncScript | None = None
    # Set by `release`: the worker gave up on what it still runs. taskiq acknowledges a task
    # that was cancelled (it catches BaseException and stores the error as the result), and
    # the tasks still running when the process exits are cancelled: without this, each would
    # be acknowledged, and lost, instead of running again on another worker.
    _released = False
    _pending: asyncio.Future[Any] | None = None  # the listener's last command to Redis

    async def startup(self) -> None:
        if self.is_worker_process:
            await super().startup()  # the consumer group, created if missing
        else:
            # Senders need no consumer group (XADD creates the stream), and must start while
            # Redis is down: enqueuing then fails alone (503), the rest of the API answers.
            await AsyncBroker.startup(self)

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        redis = Redis(connection_pool=self.connection_pool)  # the pool is the broker's to close
        while True:
            fetched: Any = await self._unless_stopping(
                redis.xreadgroup(
                    self.consumer_group_name,
                    self.consumer_name,
                    {self.queue_name: ">"},
                    block=self.block,
                    count=self.count,
                )
            )
            for _stream, entries in fetched or ():
                for entry_id, fields in entries:
                    yield self._message(entry_id, fields)
            # XAUTOCLAIM moves each entry to this consumer atomically: two workers claiming
            # at once never get the same one.
            _next, claimed, *_ = await self._unless_stopping(
                redis.xautoclaim(
                    self.queue_name,
                    self.consumer_group_name,
                    self.consumer_name,
                    min_idle_time=self.idle_timeout,
                    count=self.unacknowledged_batch_size,
                )
            )
            for entry_id, fields in claimed:
                if fields:  # None: deleted meanwhile
                    yield self._message(entry_id, fields)

    async def _unless_stopping(self, command: Awaitable[Any]) -> Any:
        """`command`'s reply, the command running in a task of its own. A stopping worker's
        receiver cancels the pending read; the cancellation ends this listener at once and
        never reaches redis-py mid-command (a read cancelled there was seen to leave the
        listener hanging, and the worker with it). The command completes on its own, within
        the socket timeout, and `release` waits for it: what it read is handed back."""
        self._pending = asyncio.ensure_future(command)
        return await asyncio.shield(self._pending)

    async def release(self) -> int:
        """Hand back what this consumer holds and will not run (stopping): messages read but
        not started, and tasks still running past the shutdown timeout. Each is marked idle
        for the redelivery delay, so the next worker's claim takes it at once instead of
        TASKS_REDELIVER_AFTER_SECONDS later. How many. From then on nothing is acknowledged:
        a task finishing after this runs again elsewhere (at least once)."""
        self._released = True
        if self._pending is not None:
            await asyncio.wait({self._pending})  # bounded by the socket timeout
            if not self._pending.cancelled():
                self._pending.exception()  # an error of the interrupted read is moot now
        redis = Redis(connection_pool=self.connection_pool)
        held = await redis.xpending_range(
            self.queue_name,
            self.consumer_group_name,
            min="-",
            max="+",
            count=10_000,
            consumername=self.consumer_name,
        )
        ids: list[Any] = [entry["message_id"] for entry in held]
        if ids:
            await redis.xclaim(
                self.queue_name,
                self.consumer_group_name,
                self.consumer_name,
                min_idle_time=0,
                message_ids=ids,
                idle=self.idle_timeout,
                justid=True,
            )
        return len(ids)

    def _message(self, entry_id: Any, fields: Any) -> AckableMessage:
        async def ack() -> None:
            # Acknowledged, then deleted: the stream holds only what is queued or running
            # (taskiq-redis keeps every message for ever unless a MAXLEN trims it, and a
            # trim cannot tell a finished message from a queued one). One script call on one
            # long-lived client: a client or a pipeline built per call costs more than the
            # call (redis-py copies ~170 reply callbacks into each).
            if self._released:
                return  # handed back: another worker runs it again
            if self._acker is None:
                client = Redis(connection_pool=self.connection_pool)
                self._acker = client.register_script(_ack_script())
            await self._acker(keys=[self.queue_name], args=[self.consumer_group_name, entry_id])

        return AckableMessage(data=fields[b"data"], ack=ack)


def _decode(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisDeadLetters:
    """One hash, letter id -> JSON, under TASKS_PREFIX."""

    def __init__(self, redis: RedisLayer, prefix: str) -> None:
        self.redis = redis
        self.key = prefix + "dead"
        self.total_key = prefix + "dead_total"

    async def add(self, letter: DeadLetter) -> None:
        await self.redis.execute("HSET", self.key, letter.id, letter.model_dump_json())
        await self.redis.execute("INCR", self.total_key)

    async def list(self, limit: int = 100) -> list[DeadLetter]:
        raw = await self.redis.execute("HVALS", self.key)
        letters = [DeadLetter.model_validate_json(value) for value in raw]
        return sorted(letters, key=lambda d: d.failed_at, reverse=True)[:limit]

    async def pop(self, letter_id: str) -> DeadLetter | None:
        # HGET then HDEL: if two operators requeue the same letter at once, only the one whose
        # HDEL removed it gets it back.
        raw = await self.redis.execute("HGET", self.key, letter_id)
        if raw is None or not await self.redis.execute("HDEL", self.key, letter_id):
            return None
        return DeadLetter.model_validate_json(raw)

    async def count(self) -> int:
        return int(await self.redis.execute("HLEN", self.key))

    async def total(self) -> int:
        return int(await self.redis.execute("GET", self.total_key) or 0)


async def queue_state(redis: RedisLayer, stream: str) -> dict[str, int]:
    """Tasks waiting for a worker (`queued`), taken and not finished (`running`), and read by
    the workers since the queue began (`read`: finished, running, or handed back).

    A finished task's message is deleted, so the stream holds exactly the first two kinds. The
    read counter is Redis's own (the group's entries-read): nothing is counted per task."""
    length = int(await redis.execute("XLEN", stream))
    try:
        groups = await redis.execute("XINFO", "GROUPS", stream)
    except BackendUnavailable:  # no stream yet: nothing was ever sent
        groups = []
    running = read = 0
    for group in groups:
        info = group if isinstance(group, dict) else dict(zip(group[::2], group[1::2], strict=True))
        info = {_decode(k): v for k, v in info.items()}
        if _decode(info["name"]) == GROUP:
            running = int(info["pending"])
            read = int(info.get("entries-read") or 0)
    return {"queued": length - running, "running": running, "read": read}
