"""The Redis backend: one Lua script per algorithm, each update atomic on the server.

Time is passed in from the injected clock (not Redis TIME) so that every process and the
tests agree on the instant. Calls go through the auto-pipeline: concurrent hits share one
round trip. Failures surface as `BackendUnavailable` for the fail-open layer.
"""

from __future__ import annotations

from importlib.resources import files

from example_service.ratelimit.base import Clock, Decision, Policy, wall_clock
from example_service.redis.client import RedisLayer
from example_service.redis.pipeline import Script


def _script(name: str) -> Script:
    return Script(files("example_service.ratelimit").joinpath(name).read_text())


class RedisBackend:
    def __init__(self, redis: RedisLayer, prefix: str = "rl:", clock: Clock = wall_clock) -> None:
        self.redis = redis
        self.prefix = prefix
        self.clock = clock
        self._fixed = _script("fixed_window.lua")
        self._sliding = _script("sliding_window.lua")
        self._bucket = _script("token_bucket.lua")

    async def hit(self, key: str, policy: Policy, cost: int = 1) -> Decision:
        now = int(self.clock() * 1000)
        redis_key = f"{self.prefix}{policy.name}:{key}"
        algorithm = policy.algorithm
        if algorithm == "sliding_window":
            script = self._sliding
            args = [now, policy.window_ms, policy.capacity, cost, policy.per_hour or 0]
        elif algorithm == "fixed_window":
            script = self._fixed
            args = [now, policy.window_ms, policy.capacity, cost]
        else:
            script = self._bucket
            args = [now, policy.window_ms, policy.limit, policy.capacity, cost]
        reply = await self.redis.run_script(script, [redis_key], args)
        allowed, limit, remaining, reset, retry_after = (int(v) for v in reply)
        return Decision(bool(allowed), limit, remaining, reset, retry_after)
