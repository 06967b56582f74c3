"""A service app with one write-behind route, served as a real process by the write-behind
tests: `uvicorn tests.cache.writebehind_app:create_app --factory`.

`POST /visits/{visit_id}` queues a visit; the flush upserts batches into a `visits` table of the
service's database. WB_INTERVAL, WB_FLUSH_DELAY (a slow source) and WB_CLAIM_AFTER shape it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from pydantic import BaseModel
from sqlalchemy import text

from example_service.app import create_app as create_service_app
from example_service.cache.strategies.behind import MemoryQueue, WriteBehind, WriteQueue


class Visit(BaseModel):
    id: str


def create_app() -> FastAPI:
    app = create_service_app()
    inner = app.router.lifespan_context
    delay = float(os.environ.get("WB_FLUSH_DELAY", "0"))

    async def flush(visits: list[Visit]) -> None:
        await asyncio.sleep(delay)
        async with app.state.engine.begin() as conn:
            for visit in visits:
                await conn.execute(
                    text("INSERT INTO visits (id) VALUES (:id) ON CONFLICT (id) DO NOTHING"),
                    {"id": visit.id},
                )

    @asynccontextmanager
    async def lifespan(application: FastAPI) -> AsyncIterator[Any]:
        async with inner(application) as state:
            async with app.state.engine.begin() as conn:
                await conn.execute(text("CREATE TABLE IF NOT EXISTS visits (id TEXT PRIMARY KEY)"))
            queue: WriteQueue = MemoryQueue()
            # part: redis
            if app.state.redis is not None:
                from example_service.cache.strategies.behind_redis import (  # noqa: PLC0415
                    RedisStreamQueue,
                )

                queue = RedisStreamQueue(
                    app.state.redis,
                    "cache:wb:visits",
                    claim_after=float(os.environ.get("WB_CLAIM_AFTER", "30")),
                )
            # end part: redis
            writer = WriteBehind(
                queue, Visit, flush, interval=float(os.environ.get("WB_INTERVAL", "0.5"))
            )
            app.state.visits = writer
            writer.start()
            try:
                yield state
            finally:
                await writer.aclose()

    app.router.lifespan_context = lifespan

    @app.post("/visits/{visit_id}", status_code=202)
    async def visit(visit_id: str, request: Request) -> dict[str, str]:
        await request.app.state.visits.write(Visit(id=visit_id))
        return {"queued": visit_id}

    return app
