from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers import ServedProcess, serve_process

DEADLINE = 1.0  # seconds, for the request head and for each part of a body


@pytest.fixture(scope="package")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedProcess]:
    """One `serve` process for the tests that do not stop it."""
    tmp = tmp_path_factory.mktemp("serving")
    env = {
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/app.db",
        "LOG_LEVEL": "WARNING",
        "SERVER_HEADER_TIMEOUT_SECONDS": str(DEADLINE),
        "SERVER_BODY_TIMEOUT_SECONDS": str(DEADLINE),
        "SERVER_KEEP_ALIVE_SECONDS": "5",
    }
    with serve_process(tmp, env) as process:
        yield process
