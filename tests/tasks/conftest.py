"""An app on a migrated database with the test tasks registered and `task_effects` created."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from email import message_from_bytes
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from example_service.app import create_app
from example_service.db.migrate import alembic_config, upgrade
from example_service.settings import DatabaseSettings, Settings, TasksSettings
from tests.identity import Api, security_settings
from tests.servers import free_port
from tests.tasks import sample_tasks

TaskApp = Callable[..., FastAPI]


@pytest.fixture
def database(postgres_url: str) -> str:
    """PostgreSQL at the head with `task_effects`: what worker processes started by a test
    share with it."""
    upgrade(alembic_config(postgres_url))
    asyncio.run(sample_tasks.create_effects_table(postgres_url))
    return postgres_url


@pytest.fixture
async def effects_url(migrated_url: str) -> str:
    await sample_tasks.create_effects_table(migrated_url)
    return migrated_url


@pytest.fixture
def task_app(make_settings: Callable[..., Settings], effects_url: str) -> TaskApp:
    def build(**sections: Any) -> FastAPI:
        values: dict[str, Any] = {
            "database": DatabaseSettings(url=effects_url),
            "security": security_settings(),
            "tasks": TasksSettings(modules=["tests.tasks.sample_tasks"], purge_schedule=""),
            **sections,
        }
        return create_app(make_settings(**values))

    return build


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[Api]:
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield Api(c, app, manager.app)


@pytest.fixture
async def tasks_api(task_app: TaskApp) -> AsyncIterator[Api]:
    async with running(task_app()) as api:
        yield api


class Mailbox:
    """A real SMTP server's handler (aiosmtpd): keeps what it accepts; `replies` are answered
    to the next messages first (e.g. "451 try later"), then 250."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.replies: list[str] = []
        self.refused = 0

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        if self.replies:
            self.refused += 1
            return self.replies.pop(0)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()
