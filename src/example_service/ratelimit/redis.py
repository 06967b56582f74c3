"""The Redis backend: one Lua script per algorithm, each update atomic on the server.

Time is passed in from the injected clock (not Redis TIME) so that every process and the
tests agree on the instant. Calls go through the auto-pipeline: concurrent hits share one
round trip. Failures surface as `BackendUnavailable` for the fail-open layer.
"""

from __future__ import annotations

import asyncio
from importlib.resources import files

from example_service.ratelimit.base import Clock, Decision, Policy, wall_clock
from example_service.redis.client import RedisLayer
from example_service.redis.pipeline import Script, pack_args

_KEY_AND_NOW = b"$%d\r\n%b\r\n$%d\r\n%b\r\n"
_new = tuple.__new__  # _new(Decision, values): a Decision built in C (see Decision)


def _script(name: str) -> Script:
    return Script(files("example_service.ratelimit").joinpath(name).read_text())


_Call = tuple[Script, bytes, bytes, tuple[int, ...], Policy]


class RedisBackend:
    def __init__(self, redis: RedisLayer, prefix: str = "rl:", clock: Clock = wall_clock) -> None:
        self.redis = redis
        self.prefix = prefix
        self.clock = clock
        self._fixed = _script("fixed_window.lua")
        self._sliding = _script("sliding_window.lua")
        self._bucket = _script("token_bucket.lua")
        # Per (policy, cost): the script, its RESP head up to the key, and the RESP of the
        # constant arguments after `now`; a hit then encodes only its key and the time.
        # Keyed by identity (hashing a frozen dataclass hashes every field); the entry holds
        # the policy so that its id cannot be reused by another object.
        self._calls: dict[tuple[int, int], _Call] = {}

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
        call = (script, script.head(1, 1 + len(constant)), pack_args(constant), constant, policy)
        self._calls[(id(policy), cost)] = call
        return call

    async def hit(self, key: str, policy: Policy, cost: int = 1) -> Decision:
        decision: Decision = await self.submit(key, policy, cost)
        return decision

    def submit(self, key: str, policy: Policy, cost: int = 1) -> asyncio.Future[Decision]:
        """`hit` as a future to await: the per-request path creates no coroutine here."""
        now = int(self.clock() * 1000)
        call = self._calls.get((id(policy), cost)) or self._call(policy, cost)
        script, head, tail, constant, _ = call
        redis_key = f"{self.prefix}{policy.name}:{key}"
        key_bytes = redis_key.encode()
        now_bytes = b"%d" % now
        # The two per-hit arguments in RESP, in one format.
        packed = head + _KEY_AND_NOW % (len(key_bytes), key_bytes, len(now_bytes), now_bytes) + tail
        return self.redis.submit_packed(
            script, packed, (1, redis_key, now, *constant), convert=decision_from
        )


def decision_from(reply: list[int]) -> Decision:
    """The scripts' reply: allowed (1/0), limit, remaining, reset epoch seconds, retry after,
    seconds until the reset."""
    allowed, limit, remaining, reset, retry_after, reset_after = reply
    return _new(Decision, (allowed == 1, limit, remaining, reset, retry_after, reset_after))
