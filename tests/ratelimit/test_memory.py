"""The in-process backend stays bounded."""

from __future__ import annotations

from example_service.ratelimit.base import Policy
from example_service.ratelimit.memory import MemoryBackend
from tests.ratelimit.conftest import FakeClock


def test_expired_keys_are_swept() -> None:
    clock = FakeClock(1000.0)
    backend = MemoryBackend(clock, max_keys=10_000, sweep_interval=60)
    policies = [
        Policy("f", limit=5, window=10),
        Policy("s", limit=5, window=10, algorithm="sliding_window"),
        Policy("h", limit=5, window=10, algorithm="sliding_window", per_hour=50),
        Policy("t", limit=5, window=10, algorithm="token_bucket"),
    ]
    for n in range(40):
        for policy in policies:
            backend.hit_now(f"k{n}", policy)
    assert len(backend) == 160
    clock.advance(30)
    backend.hit_now("k0", policies[0])
    assert len(backend) == 160  # within the sweep interval: nothing walked, nothing dropped
    clock.advance(2 * 3600 + 1)  # past every expiry, the hourly one included
    for n in range(100):
        backend.hit_now(f"new{n}", policies[0])
    # The first of those hits swept: the 160 old keys are gone, only the new ones remain.
    assert len(backend) == 100


def test_key_count_is_capped_oldest_first() -> None:
    backend = MemoryBackend(FakeClock(), max_keys=100, sweep_interval=10**9)
    policy = Policy("cap", limit=5, window=3600)
    for n in range(1000):
        backend.hit_now(f"k{n}", policy)
    assert len(backend) <= 100
    # The newest key kept its count; the oldest was dropped and starts over.
    assert backend.hit_now("k999", policy).remaining == 3
    assert backend.hit_now("k0", policy).remaining == 4
