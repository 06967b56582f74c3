from __future__ import annotations

import io
import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import stamina
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from example_service.app import create_app
from example_service.settings import (
    AppSettings,
    DatabaseSettings,
    LogSettings,
    Settings,
    TasksSettings,
)

pytest_plugins = ["tests.servers", "tests.identity"]
# Imported here as well as loaded as a plugin: rewrite its asserts before the import.
pytest.register_assert_rewrite("tests.servers")
from tests.servers import PROJECT_PREFIXES  # noqa: E402 - after the rewrite registration

SettingsFactory = Callable[..., Settings]


@pytest.fixture(autouse=True, scope="session")
def _no_retries() -> Iterator[None]:
    """Retries are off in tests, by stamina's own switch; the retry tests turn them on."""
    with stamina.set_testing(True):
        yield


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No developer .env or exported variable leaks into a test."""
    for key in list(os.environ):
        if key.startswith(PROJECT_PREFIXES):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def make_settings(tmp_path: Path) -> SettingsFactory:
    """Settings for a test: SQLite file in tmp, test environment; sections can be overridden."""

    def factory(**sections: Any) -> Settings:
        defaults: dict[str, Any] = {
            "app": AppSettings(environment="test"),
            # part: tasks
            # No periodic task in the in-process scheduler: the purge would otherwise run in
            # whatever test is running at :17 (and add to the statements some tests count).
            "tasks": TasksSettings(purge_schedule=""),
            # end part: tasks
            "log": LogSettings(level="INFO"),
            "database": DatabaseSettings(url=f"sqlite+aiosqlite:///{tmp_path}/test.db"),
        }
        defaults.update(sections)
        return Settings(**defaults)

    return factory


@pytest.fixture
def settings(make_settings: SettingsFactory) -> Settings:
    return make_settings()


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app, client=("203.0.113.7", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


class LogCapture:
    """Every log line the app writes during a test (stdout would be shared with pytest)."""

    def __init__(self) -> None:
        self.stream = io.BytesIO()

    def clear(self) -> None:
        self.stream.seek(0)
        self.stream.truncate()

    def lines(self) -> list[dict[str, Any]]:
        return log_lines(self.stream.getvalue())

    def events(self, event: str) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line.get("event") == event]


@pytest.fixture(autouse=True)
def logs(monkeypatch: pytest.MonkeyPatch) -> LogCapture:
    capture = LogCapture()
    monkeypatch.setattr(
        "example_service.observability.logging.default_stream", lambda: capture.stream
    )
    return capture


def log_lines(raw: bytes) -> list[dict[str, Any]]:
    """The JSON log lines in captured output (other output ignored)."""
    lines = []
    for line in raw.splitlines():
        if line.startswith(b"{"):
            lines.append(orjson.loads(line))
    return lines
