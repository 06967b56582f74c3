"""uvicorn's Config plus what our protocol needs; worker processes receive it pickled."""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn

from example_service.serving.sweeper import HeadSweeper

# By import path, as uvicorn resolves `http=` strings: a spawned worker imports it from there.
PROTOCOL = "example_service.serving.protocol:HeadDeadlineProtocol"


class ServiceConfig(uvicorn.Config):
    def __init__(self, app: str, *, header_timeout: float, **kwargs: Any) -> None:
        super().__init__(app, http=PROTOCOL, **kwargs)
        self.header_timeout = header_timeout
        self._sweeper: HeadSweeper | None = None  # created in the serving process, never pickled

    def head_sweeper(self, loop: asyncio.AbstractEventLoop) -> HeadSweeper:
        """The process's one sweeper (a new one if the server runs on a new loop)."""
        if self._sweeper is None or self._sweeper.loop is not loop:
            self._sweeper = HeadSweeper(loop, self.header_timeout)
        return self._sweeper
