"""The rate limiter the app holds on `app.state.limiter`: backend, policies, key strategies.

The backend is chosen once at startup: the in-process one, or a shared one the lifespan swaps
in (`use_redis`: Redis behind the fail-open layer, when REDIS_URL is set).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from example_service.errors.exceptions import RateLimitError
from example_service.ratelimit.base import Clock, Decision, Policy, RateLimitBackend, wall_clock
from example_service.ratelimit.failopen import FailOpenBackend
from example_service.ratelimit.keys import KeyFunc, key_functions
from example_service.ratelimit.memory import MemoryBackend
from example_service.ratelimit.policies import DEFAULT, build_policies
from example_service.settings import RateLimitSettings, SecuritySettings

# part: redis
if TYPE_CHECKING:
    from example_service.redis.client import RedisLayer
# end part: redis

Headers = list[tuple[bytes, bytes]]


class RateLimiter:
    def __init__(
        self,
        settings: RateLimitSettings,
        security: SecuritySettings,
        clock: Clock = wall_clock,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.memory = MemoryBackend(clock)
        self.backend: RateLimitBackend = self.memory
        # part: redis
        self.failopen: FailOpenBackend | None = None
        # end part: redis
        self.policies = build_policies(settings)
        self.default = self.policies[DEFAULT]
        self.keys = key_functions(security, clock)
        self.key_for: KeyFunc = self.keys[settings.key_strategy]

    # part: redis
    def use_redis(self, redis: RedisLayer, counter: Any | None = None) -> None:
        from example_service.ratelimit.redis import RedisBackend  # noqa: PLC0415 - Redis only when configured

        # Redis decides on its own clock (see RedisBackend); `clock` stays the in-process one.
        primary = RedisBackend(redis, self.settings.prefix)
        self.failopen = FailOpenBackend(primary, self.memory, counter)
        self.backend = self.failopen

    def use_memory(self) -> None:
        self.backend = self.memory

    @property
    def fallbacks(self) -> int:
        return self.failopen.fallbacks if self.failopen is not None else 0

    # end part: redis
    def register(self, policy: Policy) -> Policy:
        """Add a named policy (for `named_rate_limit`)."""
        self.policies[policy.name] = policy
        return policy

    async def hit(self, key: str, policy: Policy, cost: int = 1) -> Decision:
        return await self.backend.hit(key, policy, cost)

    async def refund(self, key: str, policy: Policy, cost: int = 1) -> None:
        """Give back `cost` units counted against `key` (a reservation that was not used)."""
        if policy.algorithm != "fixed_window":
            # A sliding window's previous slot or a bucket's arrival time cannot be undone.
            raise ValueError(f"policy {policy.name!r}: only fixed windows take refunds")
        await self.backend.hit(key, policy, -cost)

    async def mark(self, key: str, seconds: int) -> None:
        await self.backend.mark(key, seconds)

    async def is_marked(self, key: str) -> bool:
        return await self.backend.is_marked(key)

    def headers(self, policy: Policy, decision: Decision) -> Headers:
        # On every limited response: bytes formatting only, the constant pairs prebuilt.
        allowed, limit, remaining, reset, retry_after, reset_after = decision
        if limit == policy.capacity:
            limit_pair = policy.limit_pair
        elif limit == policy.per_hour and policy.hour_limit_pair is not None:
            limit_pair = policy.hour_limit_pair
        else:
            limit_pair = (b"x-ratelimit-limit", b"%d" % limit)
        # `t`: on a refusal, the wait that Retry-After states (the two must agree); otherwise
        # the seconds until the quota resets. Both are deltas the backend computed at the
        # instant it decided, on its own clock: no second clock read here to disagree with it.
        return [
            limit_pair,
            (b"x-ratelimit-remaining", b"%d" % remaining),
            (b"x-ratelimit-reset", b"%d" % reset),
            policy.policy_pair,
            (
                b"ratelimit",
                b"%b%d;t=%d"
                % (policy.name_bytes, remaining, reset_after if allowed else retry_after),
            ),
        ]


def rejection(decision: Decision, headers: Headers, detail: str | None = None) -> RateLimitError:
    """The 429 for a refused decision, carrying the rate-limit headers."""
    return RateLimitError(
        detail,
        retry_after=decision.retry_after,
        headers={name.decode(): value.decode() for name, value in headers},
    )
