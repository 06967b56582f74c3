"""The Redis backend: one Lua script per algorithm, each update atomic on the server.

The scripts decide on the Redis server's clock (TIME, in redis_time.lua, put before each
script), never on the caller's: instances whose clocks disagree still count one shared limit,
and a hit sends no time at all. Calls go through the auto-pipeline: concurrent hits share one
round trip. Failures surface as `BackendUnavailable` for the fail-open layer.
"""

from __future__ import annotations

import asyncio
from importlib.resources import files

from example_service.ratelimit.base import Decision, Policy
from example_service.redis.client import RedisLayer
from example_service.redis.pipeline import Script, pack_args

_KEY = b"$%d\r\n%b\r\n"
_new = tuple.__new__  # _new(Decision, values): a Decision built in C (see Decision)


def _source(name: str) -> str:
    return files("example_service.ratelimit").joinpath(name).read_text()


_Call = tuple[Script, bytes, bytes, tuple[int, ...], Policy]


class RedisBackend:
    def __init__(self, redis: RedisLayer, prefix: str = "rl:") -> None:
        self.redis = redis
        self.prefix = prefix
        clock = self.clock_prelude()
        self._fixed = Script(clock + _source("fixed_window.lua"))
        self._sliding = Script(clock + _source("sliding_window.lua"))
        self._bucket = Script(clock + _source("token_bucket.lua"))
        # Per (policy, cost): the script, its RESP head up to the key, and the RESP of the
        # constant arguments after it; a hit then encodes only its key.
        # Keyed by identity (hashing a frozen dataclass hashes every field); the entry holds
        # the policy so that its id cannot be reused by another object.
        self._calls: dict[tuple[int, int], _Call] = {}

    def clock_prelude(self) -> str:
        """The Lua that defines `now` (ms) for the scripts: the server's TIME.

        The scripts take no time argument, so no instance can count on a clock of its own.
        Tests override this (a different script, by its own SHA) to decide at exact instants.
        """
        return _source("redis_time.lua")

    def _call(self, policy: Policy, cost: int) -> _Call:
        if policy.algorithm == "sliding_window":
            script = self._sliding
            constant: tuple[int, ...] = (
                policy.window_ms,
                policy.capacity,
                cost,
                policy.per_hour or 0,
            )
        elif policy.algorithm == "fixed_window":
            script = self._fixed
            constant = (policy.window_ms, policy.capacity, cost)
        else:
            script = self._bucket
            constant = (policy.window_ms, policy.limit, policy.capacity, cost)
        call = (script, script.head(1, len(constant)), pack_args(constant), constant, policy)
        self._calls[(id(policy), cost)] = call
        return call

    async def hit(self, key: str, policy: Policy, cost: int = 1) -> Decision:
        decision: Decision = await self.submit(key, policy, cost)
        return decision

    def submit(self, key: str, policy: Policy, cost: int = 1) -> asyncio.Future[Decision]:
        """`hit` as a future to await: the per-request path creates no coroutine here."""
        call = self._calls.get((id(policy), cost)) or self._call(policy, cost)
        script, head, tail, constant, _ = call
        redis_key = f"{self.prefix}{policy.name}:{key}"
        key_bytes = redis_key.encode()
        # The one per-hit argument in RESP.
        packed = head + _KEY % (len(key_bytes), key_bytes) + tail
        return self.redis.submit_packed(
            script, packed, (1, redis_key, *constant), convert=decision_from
        )

    async def mark(self, key: str, seconds: int) -> None:
        await self.redis.execute("SET", f"{self.prefix}mark:{key}", b"1", "EX", seconds)

    async def is_marked(self, key: str) -> bool:
        found: int = await self.redis.execute("EXISTS", f"{self.prefix}mark:{key}")
        return found == 1


def decision_from(reply: list[int]) -> Decision:
    """The scripts' reply: allowed (1/0), limit, remaining, reset epoch seconds, retry after,
    seconds until the reset."""
    allowed, limit, remaining, reset, retry_after, reset_after = reply
    return _new(Decision, (allowed == 1, limit, remaining, reset, retry_after, reset_after))
