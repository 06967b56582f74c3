"""Two levels: an in-process near cache in front of Redis, kept coherent by pub/sub.

A read answers from the near cache when it can (no round trip, ~1 us), else from Redis, and
keeps what Redis returned near for at most `near_ttl` (`CACHE_NEAR_TTL_SECONDS`), never past
its expiry in Redis. Every write (set, delete, tag deletion, incr, clear) goes to Redis, evicts
the keys here, and publishes them on the invalidation channel; each process's subscriber (a
task with a connection of its own, see redis/subscriber.py) evicts them from its near cache.

The staleness bound. Pub/sub is at-most-once: a message published while a subscriber is
reconnecting, or lost with a Redis restart, never arrives. So:
- a near entry lives at most `near_ttl`: whatever message is lost, no process serves an
  overwritten or deleted value longer than `near_ttl` after the write;
- the near cache is used only while the subscriber is subscribed: it is emptied when the
  connection is lost (or found silent: three unanswered PING periods) and again when it is
  back, and filled only while subscribed. A process that may have missed invalidations starts
  over from Redis;
- a read that was in flight when an invalidation arrived does not keep its (possibly older)
  value near: every eviction bumps an epoch the read compares before storing.
With Redis down, reads that miss the near cache fail (`BackendUnavailable`: a miss for the
namespace layer) and the near cache, emptied with the lost subscription, answers nothing.

Each process ignores its own messages: it evicted locally before publishing, and again after
the write (a read racing the write cannot keep the old value).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import orjson

from example_service.cache.memory import MemoryBackend
from example_service.cache.redis import RedisBackend
from example_service.observability.logging import get_logger
from example_service.redis.subscriber import Subscriber

logger = get_logger("example_service.cache")
CHANNEL = "invalidations"  # after CACHE_PREFIX: the channel the processes publish evictions on


class TwoLevelBackend:
    kind = "two-level"

    def __init__(
        self,
        remote: RedisBackend,
        *,
        channel: str,
        near_ttl: float = 5.0,
        max_entries: int = 10_000,
        max_bytes: int = 64 * 1024 * 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.remote = remote
        self.channel = channel
        self.near_ttl = near_ttl
        self._near_limits = (max_entries, max_bytes, clock)
        self.near = MemoryBackend(max_entries, max_bytes, clock)
        self.origin = secrets.token_hex(8)  # this instance, in the messages it publishes
        self.invalidations = 0  # messages from other processes applied
        self._epoch = 0
        # Several losses per near TTL are noticed in time (see the module's bound).
        ping_every = min(1.0, near_ttl / 4)
        self.subscriber = Subscriber(
            remote.redis, channel, self._on_message, self._on_state, ping_every=ping_every
        )

    async def start(self) -> None:
        """Start the subscriber; wait briefly for it, so a healthy start begins with the near
        cache on (with Redis down it keeps trying, in the background)."""
        self.subscriber.start()
        await self.subscriber.wait_subscribed(self.remote.redis.timeout)

    async def get(self, key: str) -> bytes | None:
        value = self.near.get_now(key)
        if value is not None:
            return value
        epoch = self._epoch
        [(value, ttl)] = await self.remote.get_with_ttl([key])
        if value is not None:
            self._keep(key, value, ttl, epoch)
        return value

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        values = [self.near.get_now(key) for key in keys]
        missing = [key for key, value in zip(keys, values, strict=True) if value is None]
        if not missing:
            return values
        epoch = self._epoch
        found = dict(zip(missing, await self.remote.get_with_ttl(missing), strict=True))
        for i, key in enumerate(keys):
            if values[i] is None:
                value, ttl = found[key]
                values[i] = value
                if value is not None:
                    self._keep(key, value, ttl, epoch)
        return values

    def _keep(self, key: str, value: bytes, ttl: float, epoch: int) -> None:
        if self.subscriber.subscribed and epoch == self._epoch and ttl > 0:
            self.near.set_now(key, value, min(self.near_ttl, ttl))

    async def set(self, key: str, value: bytes, ttl: float, tags: Sequence[str] = ()) -> None:
        await self._write([key], self.remote.set(key, value, ttl, tags))

    async def set_many(
        self, items: Mapping[str, bytes], ttl: float, tags: Sequence[str] = ()
    ) -> None:
        await self._write(list(items), self.remote.set_many(items, ttl, tags))

    async def delete(self, *keys: str) -> None:
        await self._write(list(keys), self.remote.delete(*keys))

    async def delete_tag(self, tag: str) -> int:
        # Near entries carry no tags (they came from plain reads): the script says which keys.
        deleted, keys = await self.remote.delete_tag_keys(tag)
        self._evict(keys)
        if keys:
            await self._publish(keys=keys)
        return deleted

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        value: int = await self._write([key], self.remote.incr(key, amount, ttl))
        return value

    async def clear(self, prefix: str) -> int:
        deleted = await self.remote.clear(prefix)
        self._reset_near()
        await self._publish(prefixes=[prefix])
        return deleted

    async def stats(self) -> dict[str, int | str]:
        stats = await self.remote.stats()
        near = await self.near.stats()
        return {
            **stats,
            "backend": self.kind,
            "near_entries": near["entries"],
            "near_bytes": near["bytes"],
            "near_ttl_seconds": str(self.near_ttl),
            "subscribed": "yes" if self.subscriber.subscribed else "no",
            "subscriptions": self.subscriber.subscriptions,
            "invalidations_received": self.invalidations,
        }

    async def aclose(self) -> None:
        await self.subscriber.aclose()
        self._reset_near()

    async def _write(self, keys: list[str], write: Awaitable[Any]) -> Any:
        """Run `write` in Redis and publish `keys` in the same round trip (the auto-pipeline
        sends both in one batch, the write first); evict here before and after."""
        self._evict(keys)
        try:
            outcomes: tuple[Any, ...] = await asyncio.gather(
                write, self._publish(keys=keys), return_exceptions=True
            )
        finally:
            self._evict(keys)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return outcomes[0]

    async def _publish(self, keys: Sequence[str] = (), prefixes: Sequence[str] = ()) -> None:
        message = orjson.dumps({"from": self.origin, "keys": keys, "prefixes": prefixes})
        await self.remote.redis.execute("PUBLISH", self.channel, message)

    def _evict(self, keys: Sequence[str]) -> None:
        self._epoch += 1
        self.near.delete_now(*keys)

    def _reset_near(self) -> None:
        # A new near cache: O(1), where deleting entry by entry is O(entries).
        self._epoch += 1
        self.near = MemoryBackend(*self._near_limits)

    def _on_message(self, data: bytes) -> None:
        try:
            message = orjson.loads(data)
            if message["from"] == self.origin:
                return
            keys = [str(key) for key in message["keys"]]
            prefixes = list(message["prefixes"])
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            logger.warning("cache.invalidation_unreadable", reason=str(exc))
            return
        self.invalidations += 1
        if prefixes:  # `cache clear`: rare, so the whole near cache goes
            self._reset_near()
        else:
            self._evict(keys)

    def _on_state(self, subscribed: bool) -> None:
        # Lost: what is near may have missed invalidations. Back: start over from Redis.
        self._reset_near()
        if subscribed:
            logger.info("cache.near_cache_on", channel=self.channel)
        else:
            logger.warning("cache.near_cache_off", channel=self.channel)
