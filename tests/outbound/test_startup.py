"""Built in the lifespan only when a service is configured, closed with it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.outbound.conftest import Run
from tests.outbound.upstream import Upstream

PROBE = """
import asyncio, sys
from example_service.app import create_app

async def main():
    app = create_app()
    async with app.router.lifespan_context(app):
        pass
    loaded = {"httpx", "example_service.outbound"} & set(sys.modules)
    print(sorted(loaded), sorted(b.name for b in app.state.breakers))

asyncio.run(main())
"""


@pytest.mark.parametrize(
    ("services", "expected"),
    [
        ("", "[] ['db']"),
        ("up=http://127.0.0.1:9", "['example_service.outbound', 'httpx'] ['db', 'http:up']"),
    ],
)
def test_nothing_is_loaded_or_built_without_a_service(
    tmp_path: Path, services: str, expected: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "APP_ENVIRONMENT": "test", "OUTBOUND_SERVICES": services},
    )
    assert result.stdout.strip().splitlines()[-1] == expected


async def test_the_client_closes_with_the_lifespan(run: Run, upstream: Upstream) -> None:
    async with run() as app:
        client = app.up()
        assert (await client.get("/echo")).status_code == 200
    with pytest.raises(RuntimeError, match="closed"):
        await client.get("/echo")
    assert isinstance(app.app.state.outbound, dict)
    assert httpx  # the tests' own client library: imported here regardless
