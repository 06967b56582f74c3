"""Temporary bans: the policy, what a ban is, and the store Protocol.

A client (an address) is banned when it collects `thresholds[kind]` strikes of one kind within
one fixed window of `window` seconds: a strike is a rate-limit refusal (429) or an
authentication failure (401) it was answered. Each ban lasts the next of `durations` (1 minute,
then 10, then 60 by default: the last repeats); the level is remembered `memory` seconds past
the end of a ban, so a client that comes back to the same behaviour gets the longer one.
Strikes while banned do not count (a ban is not extended by the requests it refuses).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from example_service.settings import SecuritySettings

Kind = Literal["rate_limit", "auth_failure"]
KINDS: tuple[Kind, ...] = ("rate_limit", "auth_failure")


@dataclass(frozen=True, slots=True)
class BanPolicy:
    thresholds: dict[str, int]
    window: int
    durations: tuple[int, ...]
    memory: int

    @classmethod
    def from_settings(cls, settings: SecuritySettings) -> BanPolicy:
        return cls(
            thresholds={
                "rate_limit": settings.ban_rate_limit_refusals,
                "auth_failure": settings.ban_auth_failures,
            },
            window=settings.ban_window_seconds,
            durations=tuple(settings.ban_duration_seconds),
            memory=settings.ban_memory_seconds,
        )


@dataclass(frozen=True, slots=True)
class Ban:
    """A ban in force: `remaining` seconds of the `seconds` it was given at `level` (1-based).

    `level` 0: the client was already banned (by another process, say); only `remaining` is
    meaningful then.
    """

    address: str
    level: int
    seconds: int
    remaining: float


class BanStore(Protocol):
    async def strike(self, address: str, kind: Kind) -> Ban | None:
        """Count one strike; the ban it caused or found in force, else None."""
        ...

    async def active(self) -> dict[str, float]:
        """Every ban in force: address -> seconds left."""
        ...

    async def level(self, address: str) -> int:
        """The level the address's last ban had (0: none remembered)."""
        ...

    async def unban(self, address: str) -> bool:
        """Lift the ban and forget the address's strikes and level; whether it was banned."""
        ...
