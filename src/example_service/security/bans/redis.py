"""Bans shared by every process through Redis, decided on the Redis server's clock.

Keys under SECURITY_BAN_PREFIX (`abuse:` by default): `bans` (a sorted set, address -> banned
until), `level:<address>` (the last ban's level, and when it is forgotten) and
`strikes:<kind>:<address>` (a fixed window's count), each expiring when it no longer matters.
Each change is one Lua script (strike.lua, unban.lua), atomic on the server; every process
reads the bans in force (active.lua) every SECURITY_BAN_SYNC_SECONDS. Times cross between
processes as durations (seconds left), never as instants, so hosts whose clocks disagree still
agree on when a ban ends.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from example_service.redis.client import RedisLayer
from example_service.redis.pipeline import Script
from example_service.security.bans.base import KINDS, Ban, BanPolicy, Kind


def _source(name: str) -> str:
    return files("example_service.security.bans").joinpath(name).read_text()


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisBans:
    def __init__(self, redis: RedisLayer, policy: BanPolicy, prefix: str = "abuse:") -> None:
        self.redis = redis
        self.policy = policy
        self.prefix = prefix
        self.bans_key = prefix + "bans"
        self._durations = ",".join(str(seconds) for seconds in policy.durations)
        clock = self.clock_prelude()
        self._strike = Script(clock + _source("strike.lua"))
        self._active = Script(clock + _source("active.lua"))
        self._unban = Script(clock + _source("unban.lua"))
        self._level = Script(clock + _source("level.lua"))

    def clock_prelude(self) -> str:
        """The Lua defining `now` (ms): the server's TIME (tests override it, with `now_args`)."""
        return files("example_service.ratelimit").joinpath("redis_time.lua").read_text()

    def now_args(self) -> list[Any]:
        """Arguments after the scripts' own: none in production (see `clock_prelude`)."""
        return []

    def _level_key(self, address: str) -> str:
        return f"{self.prefix}level:{address}"

    def _strikes_key(self, kind: Kind, address: str) -> str:
        return f"{self.prefix}strikes:{kind}:{address}"

    async def strike(self, address: str, kind: Kind) -> Ban | None:
        policy = self.policy
        level, seconds, remaining_ms = await self.redis.run_script(
            self._strike,
            [self._strikes_key(kind, address), self._level_key(address), self.bans_key],
            [
                address,
                policy.window * 1000,
                policy.thresholds[kind],
                policy.memory * 1000,
                self._durations,
                *self.now_args(),
            ],
        )
        if not remaining_ms:
            return None
        return Ban(address, int(level), int(seconds), int(remaining_ms) / 1000)

    async def active(self) -> dict[str, float]:
        now, entries = await self.redis.run_script(
            self._active, [self.bans_key], [*self.now_args()]
        )
        pairs = iter(entries)
        return {
            _text(address): (float(_text(until)) - int(now)) / 1000
            for address, until in zip(pairs, pairs, strict=True)
        }

    async def level(self, address: str) -> int:
        level: int = await self.redis.run_script(
            self._level, [self._level_key(address)], [*self.now_args()]
        )
        return level

    async def unban(self, address: str) -> bool:
        keys = [self.bans_key, self._level_key(address)]
        keys += [self._strikes_key(kind, address) for kind in KINDS]
        lifted = await self.redis.run_script(self._unban, keys, [address, *self.now_args()])
        return bool(lifted)
