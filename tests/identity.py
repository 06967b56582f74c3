"""Fixtures for the identity tests: a migrated database on SQLite and on PostgreSQL, an app on
it, and a small client that registers and logs in users."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from sqlalchemy import event, update

from example_service.app import create_app
from example_service.db.migrate import alembic_config, upgrade
from example_service.settings import (
    CacheSettings,
    DatabaseSettings,
    RateLimitSettings,
    RedisSettings,
    SecuritySettings,
    Settings,
)
from example_service.users.models import User

JWT_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"
PASSWORD = "correct horse battery"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/identity.db"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def migrated_url(db_url: str) -> str:
    upgrade(alembic_config(db_url))
    return db_url


def security_settings(**overrides: Any) -> SecuritySettings:
    # Cheap argon2 parameters keep the suite fast; the hash is argon2id all the same.
    values: dict[str, Any] = {
        "jwt_secret": JWT_SECRET,
        "password_hash_time_cost": 1,
        "password_hash_memory_kib": 1024,
        **overrides,
    }
    return SecuritySettings(**values)


@pytest.fixture
def identity_settings(make_settings: Callable[..., Settings], migrated_url: str) -> Settings:
    return make_settings(database=DatabaseSettings(url=migrated_url), security=security_settings())


@pytest.fixture
def identity_app(identity_settings: Settings) -> FastAPI:
    return create_app(identity_settings)


@dataclass
class Account:
    id: str
    email: str
    password: str
    access: str
    refresh: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}


@dataclass
class Seen:
    """What reached the database while counting: statements sent, commits, connections checked
    out."""

    statements: int = 0
    commits: int = 0
    checkouts: int = 0


class Api:
    def __init__(self, client: httpx.AsyncClient, app: FastAPI, asgi: Any = None) -> None:
        self.client = client
        self.app = app
        self.asgi = asgi  # the running app (lifespan entered) the client talks to

    @asynccontextmanager
    async def from_address(self, address: str) -> AsyncIterator[Api]:
        """The same running app, seen from another client address."""
        transport = httpx.ASGITransport(app=self.asgi, client=(address, 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield Api(c, self.app, self.asgi)

    @contextmanager
    def counting(self) -> Iterator[Seen]:
        """Count what the app's engine sends to the database inside the block."""
        seen = Seen()
        engine = self.app.state.engine.sync_engine

        def statement(*_: Any) -> None:
            seen.statements += 1

        def commit(*_: Any) -> None:
            seen.commits += 1

        def checkout(*_: Any) -> None:
            seen.checkouts += 1

        listeners = {"before_cursor_execute": statement, "commit": commit, "checkout": checkout}
        for name, listener in listeners.items():
            event.listen(engine, name, listener)
        try:
            yield seen
        finally:
            for name, listener in listeners.items():
                event.remove(engine, name, listener)

    async def register(self, email: str, password: str = PASSWORD, **extra: Any) -> httpx.Response:
        body = {"email": email, "password": password, "full_name": "Test User", **extra}
        response = await self.client.post("/api/v1/users", json=body)
        await self.settle()
        return response

    async def settle(self) -> None:
        """Wait for the work a request left running in the app: done before a test counts
        statements."""
        # part: tasks
        # The welcome e-mail's task (in-process broker) queries the database too.
        await self.app.state.tasks.idle()
        # end part: tasks

    async def login(self, email: str, password: str = PASSWORD) -> httpx.Response:
        return await self.client.post(
            "/api/v1/auth/login", json={"email": email, "password": password}
        )

    async def account(self, email: str, *, admin: bool = False) -> Account:
        created = await self.register(email)
        assert created.status_code == 201, created.text
        if admin:
            await self.promote(email)
        tokens = (await self.login(email)).json()
        return Account(
            created.json()["id"], email, PASSWORD, tokens["access_token"], tokens["refresh_token"]
        )

    async def promote(self, email: str) -> None:
        async with self.app.state.session_factory() as session:
            await session.execute(update(User).where(User.email == email).values(role="admin"))
            await session.commit()


@pytest.fixture
async def api(identity_app: FastAPI) -> AsyncIterator[Api]:
    async with LifespanManager(identity_app) as manager:
        transport = httpx.ASGITransport(app=manager.app, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield Api(c, identity_app, manager.app)


# The caches behind the identity caches (auth/cache.py): in-process, Redis, and Redis behind a
# near cache.
CACHE_KINDS = [
    "memory",
    # part: redis
    "redis",
    "two-level",
    # end part: redis
]


@pytest.fixture(params=CACHE_KINDS)
def cache_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def cache_sections(kind: str, request: pytest.FixtureRequest) -> dict[str, Any]:
    """Settings sections for a cache of `kind`, principals cached on it.

    memory: in-process (CACHE_AUTH=on, one process); redis and two-level: a real server,
    CACHE_AUTH=auto; redis-down: a Redis URL nobody listens on (every cache operation fails);
    off: CACHE_ENABLED=false.
    """
    if kind == "memory":
        return {"cache": CacheSettings(auth="on")}
    if kind == "off":
        return {"cache": CacheSettings(enabled=False)}
    # part: redis
    if kind in ("redis", "two-level"):
        url = request.getfixturevalue("redis_server").url
    else:
        from tests.servers import free_port  # noqa: PLC0415

        url = f"redis://127.0.0.1:{free_port()}/0"
    # Tests share the server: keys of their own, for the cache and the rate limits alike.
    prefix = f"t{uuid.uuid4().hex[:12]}:"
    backend = "two-level" if kind == "two-level" else "redis"
    return {
        "cache": CacheSettings(backend=backend, prefix=prefix),
        "rate_limit": RateLimitSettings(prefix=prefix + "rl:"),
        "redis": RedisSettings(url=url),
    }
    # end part: redis
    raise ValueError(f"no cache kind {kind!r}")


@pytest.fixture
async def cached_api(
    make_settings: Callable[..., Settings],
    migrated_url: str,
    cache_kind: str,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Api]:
    """An app whose cache is `cache_kind`, principals cached on it."""
    settings = make_settings(
        database=DatabaseSettings(url=migrated_url),
        security=security_settings(),
        **cache_sections(cache_kind, request),
    )
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield Api(c, app, manager.app)
