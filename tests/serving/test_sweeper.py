"""The head sweeper's decisions, on a clock the test sets."""

from __future__ import annotations

import asyncio

from example_service.serving.sweeper import HeadSweeper


class Connection:
    def __init__(self, head_started: float | None, closing: bool = False) -> None:
        self.head_started = head_started
        self.closing = closing
        self.closed_for_head = False

    def head_overdue(self) -> None:
        self.closed_for_head = True

    def gone(self) -> bool:
        return self.closing


async def test_closes_only_heads_older_than_the_timeout() -> None:
    sweeper = HeadSweeper(asyncio.get_running_loop(), timeout=10.0)
    overdue, recent, idle = Connection(100.0), Connection(105.0), Connection(None)
    for connection in (overdue, recent, idle):
        sweeper.add(connection)
    assert sweeper.sweep(now=110.0) == 1
    assert overdue.closed_for_head
    assert not recent.closed_for_head
    assert not idle.closed_for_head
    assert sweeper.connections == {recent, idle}


async def test_forgets_connections_closed_elsewhere_without_closing_them() -> None:
    sweeper = HeadSweeper(asyncio.get_running_loop(), timeout=10.0)
    upgraded = Connection(None, closing=True)
    sweeper.add(upgraded)
    assert sweeper.sweep(now=0.0) == 0
    assert not upgraded.closed_for_head
    assert sweeper.connections == set()


async def test_one_timer_per_process_and_none_while_idle() -> None:
    sweeper = HeadSweeper(asyncio.get_running_loop(), timeout=10.0)
    assert sweeper.timer is None
    first, second = Connection(None), Connection(None)
    sweeper.add(first)
    timer = sweeper.timer
    sweeper.add(second)
    assert sweeper.timer is timer
    sweeper.discard(first)
    sweeper.discard(second)
    assert timer is not None
    timer.cancel()
    sweeper._tick()  # the tick finds no connection: no next tick
    assert sweeper.timer is None
