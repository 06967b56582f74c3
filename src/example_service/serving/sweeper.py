"""One sweeper per process closes the connections whose request head is overdue.

One timer for all connections, not one per request: a timer per request would cost on the hot
path what the sweeper costs once per interval (a pass over the open connections). A head is
closed between `timeout` and `timeout + interval` after it started; the timer runs only while
there are connections.
"""

from __future__ import annotations

import asyncio
from typing import Protocol


class Watched(Protocol):
    # Loop time at which the pending request head started; None while no head is pending.
    head_started: float | None

    def head_overdue(self) -> None: ...

    def gone(self) -> bool: ...


class HeadSweeper:
    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float) -> None:
        self.loop = loop
        self.timeout = timeout
        self.interval = min(1.0, timeout / 4)
        self.connections: set[Watched] = set()
        self.timer: asyncio.TimerHandle | None = None

    def add(self, connection: Watched) -> None:
        self.connections.add(connection)
        if self.timer is None:
            self.timer = self.loop.call_later(self.interval, self._tick)

    def discard(self, connection: Watched) -> None:
        self.connections.discard(connection)

    def _tick(self) -> None:
        self.sweep(self.loop.time())
        self.timer = self.loop.call_later(self.interval, self._tick) if self.connections else None

    def sweep(self, now: float) -> int:
        """Close the connections whose head started before `now - timeout`; how many."""
        deadline = now - self.timeout
        overdue: list[Watched] = []
        gone: list[Watched] = []
        for connection in self.connections:
            started = connection.head_started
            if started is not None and started <= deadline:
                overdue.append(connection)
            elif connection.gone():
                # Closed without telling us: handed to another protocol (a WebSocket upgrade).
                gone.append(connection)
        for connection in gone:
            self.connections.discard(connection)
        for connection in overdue:
            self.connections.discard(connection)
            connection.head_overdue()
        return len(overdue)
