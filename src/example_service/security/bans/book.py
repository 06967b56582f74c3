"""What a process knows of bans: the table every request reads, and the stores behind it.

The table (address -> banned until, on this process's clock) is a plain dict read once per
request; it is refilled from the shared store every SECURITY_BAN_SYNC_SECONDS and updated at
once by this process's own bans.
# part: redis

With Redis, strikes and bans are counted there for every process; when Redis cannot answer,
they are counted here (fail open, as the rate limiter does) and the bans made meanwhile stay in
this process until they end.
# end part: redis
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from example_service.observability.logging import get_logger
from example_service.ratelimit.base import Clock, wall_clock
from example_service.resilience.errors import BackendUnavailable
from example_service.security.bans.base import Ban, BanPolicy, BanStore, Kind
from example_service.security.bans.memory import MemoryBans

# part: redis
if TYPE_CHECKING:
    from example_service.redis.client import RedisLayer
# end part: redis

logger = get_logger("example_service.security")


class Bans:
    def __init__(
        self,
        policy: BanPolicy,
        clock: Clock = wall_clock,
        counter: Any | None = None,
        prefix: str = "abuse:",
        sync_seconds: float = 1.0,
    ) -> None:
        self.policy = policy
        self.clock = clock
        self.counter = counter  # a prometheus_client Counter (label: kind), when metrics are on
        self.prefix = prefix
        self.sync_seconds = sync_seconds
        self.memory = MemoryBans(policy, clock)
        self.shared: BanStore | None = None  # one store for every process, when there is one
        self.table: dict[str, float] = {}
        self.fallbacks = 0

    @property
    def store(self) -> BanStore:
        return self.shared if self.shared is not None else self.memory

    # part: redis
    def use_redis(self, redis: RedisLayer) -> None:
        from example_service.security.bans.redis import RedisBans  # noqa: PLC0415 - Redis only when configured

        self.shared = RedisBans(redis, self.policy, self.prefix)

    def use_memory(self) -> None:
        self.shared = None

    # end part: redis
    def retry_after(self, address: str) -> int | None:
        """Seconds left of the address's ban (rounded up), or None: not banned."""
        until = self.table.get(address)
        if until is None:
            return None
        left = until - self.clock()
        if left <= 0:
            self.table.pop(address, None)
            return None
        return int(-(-left // 1))

    async def strike(self, address: str, kind: Kind) -> Ban | None:
        ban: Ban | None
        if self.shared is None:
            ban = self.memory.strike_now(address, kind)
        else:
            try:
                ban = await self.shared.strike(address, kind)
            except BackendUnavailable as exc:
                self._fell_back(exc)
                ban = self.memory.strike_now(address, kind)
        if ban is not None:
            self.table[address] = self.clock() + ban.remaining
            if ban.level:
                logger.warning(
                    "security.banned",
                    client=address,
                    reason=kind,
                    ban_level=ban.level,
                    seconds=ban.seconds,
                )
                if self.counter is not None:
                    self.counter.labels(kind).inc()
        return ban

    async def sync(self) -> None:
        """Refill the table: the bans in force in the shared store (made elsewhere; unbans
        dropped) and this process's own; ended bans leave it."""
        shared: dict[str, float] = {}
        if self.shared is not None:
            try:
                shared = await self.shared.active()
            except BackendUnavailable as exc:
                self._fell_back(exc)
                return  # the table stays as it was
        now = self.clock()
        table = {address: now + left for address, left in self.memory.active_now().items()}
        table.update((address, now + left) for address, left in shared.items())
        self.table = table

    async def run_sync(self) -> None:
        """Until cancelled: `sync` every `sync_seconds`."""
        while True:
            await self.sync()
            await asyncio.sleep(self.sync_seconds)

    async def unban(self, address: str) -> bool:
        lifted = await self.memory.unban(address)
        if self.shared is not None:
            lifted = await self.shared.unban(address) or lifted
        self.table.pop(address, None)
        return lifted

    def _fell_back(self, exc: BackendUnavailable) -> None:
        self.fallbacks += 1
        logger.warning("security.bans_fallback", reason=str(exc))
