"""The rate-limit backend Protocol and the values it trades in.

Time is integer milliseconds everywhere, and the in-process and Redis backends do the same
arithmetic, so they make the same decision at the same instant. The in-process backend reads
an injectable clock (tests are exact at window boundaries without sleeping); the Redis scripts
read the Redis server's clock, the one clock every instance sharing it agrees on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, NamedTuple, Protocol

Algorithm = Literal["fixed_window", "sliding_window", "token_bucket"]
Clock = Callable[[], float]  # seconds since the epoch (wall clock: reset is an epoch time)

HOUR_MS = 3_600_000


# time.time itself, not a wrapper: one Python frame less on every request.
wall_clock: Clock = time.time


@dataclass(frozen=True, slots=True)
class Policy:
    """How many `limit` per `window` seconds, by which algorithm.

    `burst` adds capacity above `limit` (sliding window and token bucket); `per_hour` adds a
    second, hourly sliding window. The capacity a client sees is `limit + burst`.
    """

    name: str
    limit: int
    window: int
    algorithm: Algorithm = "fixed_window"
    burst: int = 0
    per_hour: int | None = None
    capacity: int = field(init=False)
    window_ms: int = field(init=False)
    name_bytes: bytes = field(init=False)
    # Prebuilt header pairs: the same on every response under this policy.
    policy_pair: tuple[bytes, bytes] = field(init=False)
    limit_pair: tuple[bytes, bytes] = field(init=False)
    hour_limit_pair: tuple[bytes, bytes] | None = field(init=False)

    def __post_init__(self) -> None:
        if self.limit < 1 or self.window < 1 or self.burst < 0:
            raise ValueError(f"invalid rate-limit policy {self.name!r}")
        object.__setattr__(self, "capacity", self.limit + self.burst)
        object.__setattr__(self, "window_ms", self.window * 1000)
        # IETF draft-ietf-httpapi-ratelimit-headers: a quota of q units per w seconds.
        header = f'"{self.name}";q={self.capacity};w={self.window}'
        object.__setattr__(self, "name_bytes", f'"{self.name}";r='.encode())
        object.__setattr__(self, "policy_pair", (b"ratelimit-policy", header.encode()))
        object.__setattr__(self, "limit_pair", (b"x-ratelimit-limit", b"%d" % self.capacity))
        hour_pair = None if self.per_hour is None else (b"x-ratelimit-limit", b"%d" % self.per_hour)
        object.__setattr__(self, "hour_limit_pair", hour_pair)


class Decision(NamedTuple):
    """One hit's outcome.

    A tuple so that hot paths can build it with `tuple.__new__(Decision, values)`: that skips the
    Python-level `__new__` a NamedTuple call runs, half the cost (measured).
    """

    allowed: bool
    limit: int
    remaining: int
    reset_at_epoch: int  # whole seconds since the epoch
    retry_after: int  # whole seconds; 0 when allowed
    # Whole seconds from the deciding instant until `reset_at_epoch`'s exact (millisecond) time,
    # rounded up: the headers' `t` comes from here, not from a clock read later, so it agrees
    # with the decision whichever clock made it.
    reset_after: int


class RateLimitBackend(Protocol):
    async def hit(self, key: str, policy: Policy, cost: int = 1) -> Decision:
        """Count `cost` against `key` under `policy` if it fits; say whether it did.

        Under a fixed window a negative cost gives units back (never below zero).
        """
        ...

    async def mark(self, key: str, seconds: int) -> None:
        """Remember `key` for `seconds` (login: an address an account logged in from)."""
        ...

    async def is_marked(self, key: str) -> bool:
        """Whether `key` was marked and has not expired."""
        ...


def ceil_seconds(ms: int | float) -> int:
    """Milliseconds -> whole seconds, rounded up (a client retrying earlier is refused)."""
    return int(-(-ms // 1000))
