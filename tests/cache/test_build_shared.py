"""Which shared backend CACHE_BACKEND builds with REDIS_URL set, and what the app loads and
runs for it."""

from __future__ import annotations

import subprocess
import sys

import pytest
from asgi_lifespan import LifespanManager

from example_service.app import create_app
from example_service.cache.memory import MemoryBackend
from example_service.cache.redis import RedisBackend
from example_service.cache.shared import build_shared_cache
from example_service.cache.twolevel import TwoLevelBackend
from example_service.redis.client import RedisLayer
from example_service.settings import CacheSettings, RedisSettings
from tests.conftest import SettingsFactory
from tests.servers import RedisServer


@pytest.mark.parametrize(
    ("backend", "built"),
    [
        ("auto", TwoLevelBackend),
        ("memory", MemoryBackend),
        ("redis", RedisBackend),
        ("two-level", TwoLevelBackend),
    ],
)
async def test_the_backend_built(backend: str, built: type, redis_layer: RedisLayer) -> None:
    settings = CacheSettings(backend=backend, near_ttl_seconds=2, prefix="p:")
    cache = build_shared_cache(settings, redis_layer)
    assert cache is not None
    assert type(cache.backend) is built
    if isinstance(cache.backend, TwoLevelBackend):
        assert cache.backend.near_ttl == 2
        assert cache.backend.channel == "p:invalidations"
        assert isinstance(cache.shared, RedisBackend)  # what `near=False` namespaces use
    await cache.backend.aclose()


def test_a_disabled_cache_is_none(redis_layer: RedisLayer) -> None:
    assert build_shared_cache(CacheSettings(enabled=False, backend="redis"), redis_layer) is None


async def test_the_app_runs_the_subscriber_for_its_lifespan(
    make_settings: SettingsFactory, redis_server: RedisServer
) -> None:
    app = create_app(make_settings(redis=RedisSettings(url=redis_server.url)))
    async with LifespanManager(app):
        backend = app.state.cache.backend
        assert isinstance(backend, TwoLevelBackend)
        assert backend.subscriber.subscribed  # started with the app: the near cache is on
    assert not backend.subscriber.subscribed
    assert backend.subscriber._task is None


def test_without_redis_url_nothing_of_redis_is_imported() -> None:
    probe = (
        "import asyncio, sys\n"
        "from asgi_lifespan import LifespanManager\n"
        "from example_service.app import create_app\n"
        "async def main():\n"
        "    app = create_app()\n"
        "    async with LifespanManager(app):\n"
        "        assert type(app.state.cache.backend).__name__ == 'MemoryBackend'\n"
        "asyncio.run(main())\n"
        "names = ('redis', 'example_service.redis.client', 'example_service.cache.redis',\n"
        "         'example_service.cache.twolevel', 'example_service.redis.subscriber')\n"
        "print(sorted(set(sys.modules) & set(names)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "APP_ENVIRONMENT": "test", "LOG_LEVEL": "WARNING"},
    )
    assert result.stdout.strip().splitlines()[-1] == "[]"
