"""The durable write-behind queue: a Redis stream with a consumer group.

`put` is XADD: once it returns the item survives this process. `take` hands out, in order,
(1) this consumer's items taken before and not acknowledged (a flush that failed), (2) items
of a consumer that has been silent for `claim_after` seconds (a crashed process: XAUTOCLAIM),
(3) new items. `done` is XACK and XDEL, after the flush that wrote them. So a process killed
at any point loses nothing: what it had taken is claimed by the next one (its own restart, or
another instance), and flushed again (flushes are idempotent upserts).
"""

from __future__ import annotations

import os
import socket
from typing import Any

from example_service.redis.client import RedisLayer
from example_service.resilience.errors import BackendUnavailable


def _entries(reply: Any) -> list[tuple[str, bytes]]:
    """[[id, [field, value]], ...] -> [(id, payload)]; deleted entries (None) skipped."""
    out: list[tuple[str, bytes]] = []
    for entry in reply or ():
        if entry is None or entry[1] is None:
            continue
        entry_id, fields = entry
        values = dict(zip(fields[::2], fields[1::2], strict=True))
        out.append((entry_id.decode(), values[b"p"]))
    return out


class RedisStreamQueue:
    def __init__(
        self, redis: RedisLayer, stream: str, group: str = "flushers", claim_after: float = 30.0
    ) -> None:
        self.redis = redis
        self.stream = stream
        self.group = group
        self.claim_after_ms = int(claim_after * 1000)
        self.consumer = f"{socket.gethostname()}:{os.getpid()}"
        self._group_ready = False

    async def _ensure_group(self) -> None:
        if self._group_ready:
            return
        try:
            await self.redis.execute("XGROUP", "CREATE", self.stream, self.group, "0", "MKSTREAM")
        except BackendUnavailable as exc:
            if "BUSYGROUP" not in str(exc):  # the group exists: fine
                raise
        self._group_ready = True

    async def put(self, payload: bytes) -> None:
        await self.redis.execute("XADD", self.stream, "*", "p", payload)

    async def take(self, max_items: int) -> list[tuple[str, bytes]]:
        await self._ensure_group()
        mine = await self._read("0", max_items)  # taken before, not acknowledged
        if mine:
            return mine
        claimed = await self.redis.execute(
            "XAUTOCLAIM",
            self.stream,
            self.group,
            self.consumer,
            self.claim_after_ms,
            "0-0",
            "COUNT",
            max_items,
        )
        stale = _entries(claimed[1])
        if stale:
            return stale
        return await self._read(">", max_items)

    async def _read(self, start: str, max_items: int) -> list[tuple[str, bytes]]:
        reply = await self.redis.execute(
            "XREADGROUP",
            "GROUP",
            self.group,
            self.consumer,
            "COUNT",
            max_items,
            "STREAMS",
            self.stream,
            start,
        )
        if not reply:
            return []
        # RESP3 answers a map {stream: entries}, RESP2 a list [[stream, entries]].
        streams = list(reply.values()) if isinstance(reply, dict) else [pair[1] for pair in reply]
        return _entries(streams[0])

    async def done(self, ids: list[str]) -> None:
        if ids:
            await self.redis.execute("XACK", self.stream, self.group, *ids)
            await self.redis.execute("XDEL", self.stream, *ids)

    async def size(self) -> int:
        length: int = await self.redis.execute("XLEN", self.stream)
        return length
