"""The real app factory plus two routes for the gunicorn tests, never part of the product:
`/test/slow` (a request still in flight when SIGTERM arrives) and `/test/pid` (which worker)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from fastapi import FastAPI

from example_service.app import create_app as create_service

# Created when a slow request has started: the test then knows it is in flight.
STARTED = "slow-started"


def create_app() -> FastAPI:
    app = create_service()

    async def slow(seconds: float) -> dict[str, float]:
        # In the server's working directory, the test's tmp_path.
        await asyncio.to_thread(Path(STARTED).touch)
        await asyncio.sleep(seconds)
        return {"slept": seconds}

    async def pid() -> dict[str, int]:
        return {"pid": os.getpid()}

    app.add_api_route("/test/slow", slow)
    app.add_api_route("/test/pid", pid)
    return app
