"""The in-process backend: plain dicts, the same arithmetic as the Lua scripts.

It is the default (no REDIS_URL) and the fail-open fallback, so it sits on the hot path of
every API request: no datetime, no allocation beyond the state list of a new key and the
decision tuple (~1 us per hit, measured). Memory is bounded: expired keys are swept at most once
per `sweep_interval` seconds, on a hit, and a new key past `max_keys` first evicts the oldest
tenth.
"""

from __future__ import annotations

from itertools import islice
from math import ceil, floor
from typing import Any

from example_service.ratelimit.base import HOUR_MS, Clock, Decision, Policy, wall_clock

_new = tuple.__new__  # _new(Decision, values): a Decision built in C (see Decision)


def _sliding_wait(cap: int, cost: int, w: int, e: int, *, curr: int, prev: int) -> int:
    """Milliseconds until `cost` fits in a sliding window now `e` ms into its current slot."""
    if cost > cap:
        return w
    if curr + cost <= cap:
        # Only the previous slot's weight must decay enough.
        return max(0, w - ((cap - curr - cost) * w) // prev - e) if prev else 0
    # Wait for the next slot, where this one becomes the decaying previous one.
    later = max(0, w - ((cap - cost) * w) // curr) if curr else 0
    return (w - e) + later


class MemoryBackend:
    def __init__(
        self, clock: Clock = wall_clock, max_keys: int = 100_000, sweep_interval: float = 60.0
    ) -> None:
        self.clock = clock
        self.max_keys = max_keys
        self.sweep_interval_ms = int(sweep_interval * 1000)
        self._stores: dict[str, dict[str, list[Any]]] = {}
        self._marks: dict[str, list[Any]] = {}  # key -> [expiry ms], swept like the stores
        self._next_sweep = 0  # the first hit sweeps (nothing) and schedules the next sweep

    def __len__(self) -> int:
        return sum(len(store) for store in self._stores.values()) + len(self._marks)

    async def mark(self, key: str, seconds: int) -> None:
        marks = self._marks
        if marks.pop(key, None) is None and len(marks) >= self.max_keys:
            _evict_oldest(marks, self.max_keys // 10 or 1)
        # (Re)inserted last: a renewed mark is the newest, the last to be evicted.
        marks[key] = [int(self.clock() * 1000) + seconds * 1000]

    async def is_marked(self, key: str) -> bool:
        mark = self._marks.get(key)
        return mark is not None and mark[0] > int(self.clock() * 1000)

    async def hit(self, key: str, policy: Policy, cost: int = 1) -> Decision:
        return self.hit_now(key, policy, cost)

    def hit_now(self, key: str, policy: Policy, cost: int = 1) -> Decision:
        now = int(self.clock() * 1000)
        if now >= self._next_sweep:
            self._sweep(now)
        store = self._stores.get(policy.name)
        if store is None:
            store = self._stores[policy.name] = {}
        state = store.get(key)
        algorithm = policy.algorithm
        if state is None:
            if len(store) >= self.max_keys:
                _evict_oldest(store, self.max_keys // 10 or 1)
            if algorithm == "sliding_window":
                state = store[key] = [0, 0, 0, 0, 0, 0, 0]
            elif algorithm == "fixed_window":
                state = store[key] = [0, 0, 0]
            else:
                state = store[key] = [0.0, 0]
        if algorithm == "sliding_window":
            return self._sliding(state, policy, cost, now)
        if algorithm == "fixed_window":
            return self._fixed(state, policy, cost, now)
        return self._gcra(state, policy, cost, now)

    @staticmethod
    def _fixed(state: list[Any], policy: Policy, cost: int, now: int) -> Decision:
        w = policy.window_ms
        cap = policy.capacity
        idx = now // w
        reset = (idx + 1) * w
        after = -(-(reset - now) // 1000)
        count = state[1] if state[0] == idx else 0
        state[0] = idx
        state[2] = reset
        if count + cost > cap:
            state[1] = count
            return _new(
                Decision, (False, cap, max(0, cap - count), -(-reset // 1000), after, after)
            )
        count += cost
        # A refund (negative cost) after the window rolled over. Not max(): on every hit of a
        # fixed window the call costs ~50 ns more than this test (measured).
        if count < 0:  # noqa: PLR1730
            count = 0
        state[1] = count
        return _new(Decision, (True, cap, cap - count, -(-reset // 1000), 0, after))

    @staticmethod
    def _sliding(state: list[Any], policy: Policy, cost: int, now: int) -> Decision:
        # state: minute slot, its count, previous count; same for the hour; expiry.
        w = policy.window_ms
        cap = policy.capacity
        idx = now // w
        e = now - idx * w
        if state[0] != idx:
            state[2] = state[1] if state[0] == idx - 1 else 0
            state[1] = 0
            state[0] = idx
        curr = state[1]
        prev = state[2]
        used = prev * (w - e) + curr * w
        fits = used + cost * w <= cap * w
        hour_cap = policy.per_hour
        if hour_cap is None:
            state[6] = now + 2 * w
            reset = (idx + 1) * w
            if fits:
                state[1] = curr + cost
                remaining = (cap * w - used - cost * w) // w
                return _new(
                    Decision,
                    (True, cap, remaining, -(-reset // 1000), 0, -(-(reset - now) // 1000)),
                )
            wait = _sliding_wait(cap, cost, w, e, curr=curr, prev=prev)
            return _new(
                Decision,
                (
                    False,
                    cap,
                    max(0, (cap * w - used) // w),
                    -(-reset // 1000),
                    max(1, -(-wait // 1000)),
                    -(-(reset - now) // 1000),
                ),
            )
        h = HOUR_MS
        hidx = now // h
        he = now - hidx * h
        if state[3] != hidx:
            state[5] = state[4] if state[3] == hidx - 1 else 0
            state[4] = 0
            state[3] = hidx
        hcurr = state[4]
        hprev = state[5]
        hused = hprev * (h - he) + hcurr * h
        hfits = hused + cost * h <= hour_cap * h
        state[6] = now + 2 * h
        if fits and hfits:
            state[1] = curr + cost
            state[4] = hcurr + cost
            used += cost * w
            hused += cost * h
        remaining = (cap * w - used) // w
        hremaining = (hour_cap * h - hused) // h
        if hremaining < remaining:
            limit, left, reset = hour_cap, hremaining, (hidx + 1) * h
        else:
            limit, left, reset = cap, remaining, (idx + 1) * w
        after = -(-(reset - now) // 1000)
        if fits and hfits:
            return _new(Decision, (True, limit, left, -(-reset // 1000), 0, after))
        wait = 0
        if not fits:
            wait = _sliding_wait(cap, cost, w, e, curr=curr, prev=prev)
        if not hfits:
            wait = max(wait, _sliding_wait(hour_cap, cost, h, he, curr=hcurr, prev=hprev))
        return _new(
            Decision,
            (False, limit, max(0, left), -(-reset // 1000), max(1, -(-wait // 1000)), after),
        )

    @staticmethod
    def _gcra(state: list[Any], policy: Policy, cost: int, now: int) -> Decision:
        # Generic cell rate: one "theoretical arrival time" per key, a token every t ms.
        # floor/ceil of a true division, exactly as token_bucket.lua computes them.
        cap = policy.capacity
        t = policy.window_ms / policy.limit
        tat = max(state[0], now)
        new_tat = tat + t * cost
        allow_at = new_tat - t * cap
        if now < allow_at:
            remaining = floor((now - (tat - t * cap)) / t)
            return _new(
                Decision,
                (
                    False,
                    cap,
                    max(0, remaining),
                    ceil(tat / 1000),
                    max(1, ceil((allow_at - now) / 1000)),
                    ceil((tat - now) / 1000),
                ),
            )
        state[0] = new_tat
        state[1] = new_tat
        return _new(
            Decision,
            (
                True,
                cap,
                floor((now - allow_at) / t),
                ceil(new_tat / 1000),
                0,
                ceil((new_tat - now) / 1000),
            ),
        )

    def _sweep(self, now: int) -> None:
        self._next_sweep = now + self.sweep_interval_ms
        for store in (*self._stores.values(), self._marks):
            expired = [k for k, state in store.items() if state[-1] <= now]
            for k in expired:
                del store[k]


def _evict_oldest(store: dict[str, list[Any]], count: int) -> None:
    # Dicts keep insertion order: the first keys are the oldest.
    for k in list(islice(store, count)):
        del store[k]
