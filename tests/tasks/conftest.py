"""An app on a migrated database with the test tasks registered and `task_effects` created."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from example_service.app import create_app
from example_service.settings import DatabaseSettings, Settings, TasksSettings
from tests.identity import Api, security_settings
from tests.tasks import sample_tasks

TaskApp = Callable[..., FastAPI]


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
            "tasks": TasksSettings(modules=["tests.tasks.sample_tasks"]),
            **sections,
        }
        return create_app(make_settings(**values))

    return build


@pytest.fixture
async def tasks_api(task_app: TaskApp) -> AsyncIterator[Api]:
    app = task_app()
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield Api(c, app, manager.app)
