"""The reference for a database read: bare FastAPI, one select by primary key per request.

The same async SQLAlchemy engine and driver as the service (`DATABASE_URL`, aiosqlite or
asyncpg, engine defaults), the same `users` table, a session per request that reads the row and
closes without a commit: what a FastAPI app written the usual way pays for one row. No
authentication, no middleware, uvicorn's access log off (served as `bench.run.bare` is).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from example_service.users.models import User
from example_service.users.schemas import UserRead


def create_app() -> FastAPI:
    engine = create_async_engine(os.environ["DATABASE_URL"])
    sessions = async_sessionmaker(engine, expire_on_commit=False)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)
    app.state.engine = engine  # for bench.users to count statements

    @app.get("/api/v1/users/{user_id}", response_model=UserRead)
    async def read_user(user_id: uuid.UUID) -> User:
        async with sessions() as session:
            user = await session.get(User, user_id)
        if user is None:
            raise HTTPException(404)
        return user

    return app
