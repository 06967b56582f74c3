"""Bans in this process only: without Redis, and while Redis cannot answer (fail open)."""

from __future__ import annotations

from example_service.ratelimit.base import Clock, wall_clock
from example_service.security.bans.base import KINDS, Ban, BanPolicy, Kind

# Strike counters of past windows and forgotten levels are swept once a table holds this many:
# a flood from many addresses costs bounded memory. Ended bans go at each sync (`active_now`).
SWEEP_AT = 50_000


class MemoryBans:
    def __init__(self, policy: BanPolicy, clock: Clock = wall_clock) -> None:
        self.policy = policy
        self.clock = clock
        self.strikes: dict[tuple[str, Kind], tuple[int, int]] = {}  # -> (window index, count)
        self.levels: dict[str, tuple[int, float]] = {}  # address -> (level, forgotten at)
        self.bans: dict[str, float] = {}  # address -> banned until

    def strike_now(self, address: str, kind: Kind) -> Ban | None:
        now = self.clock()
        until = self.bans.get(address)
        if until is not None and until > now:
            return Ban(address, 0, 0, until - now)
        policy = self.policy
        index = int(now // policy.window)
        window, count = self.strikes.get((address, kind), (index, 0))
        count = count + 1 if window == index else 1
        if count < policy.thresholds[kind]:
            if len(self.strikes) >= SWEEP_AT:
                self._sweep(index)
            self.strikes[(address, kind)] = (index, count)
            return None
        self.strikes.pop((address, kind), None)
        level, forgotten_at = self.levels.get(address, (0, 0.0))
        if forgotten_at <= now:
            level = 0
        level = min(level + 1, len(policy.durations))
        seconds = policy.durations[level - 1]
        if len(self.levels) >= SWEEP_AT:
            self._sweep(index)
        self.bans[address] = now + seconds
        self.levels[address] = (level, now + seconds + policy.memory)
        return Ban(address, level, seconds, float(seconds))

    def _sweep(self, index: int) -> None:
        """Drop what no longer matters: past windows' strikes, forgotten levels."""
        self.strikes = {key: value for key, value in self.strikes.items() if value[0] == index}
        now = self.clock()
        self.levels = {a: v for a, v in self.levels.items() if v[1] > now}

    def active_now(self) -> dict[str, float]:
        now = self.clock()
        self.bans = {address: until for address, until in self.bans.items() if until > now}
        return {address: until - now for address, until in self.bans.items()}

    async def strike(self, address: str, kind: Kind) -> Ban | None:
        return self.strike_now(address, kind)

    async def active(self) -> dict[str, float]:
        return self.active_now()

    async def level(self, address: str) -> int:
        level, forgotten_at = self.levels.get(address, (0, 0.0))
        return level if forgotten_at > self.clock() else 0

    async def unban(self, address: str) -> bool:
        for kind in KINDS:
            self.strikes.pop((address, kind), None)
        self.levels.pop(address, None)
        until = self.bans.pop(address, None)
        return until is not None and until > self.clock()
