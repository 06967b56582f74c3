"""`example-service cache stats | clear` against the configured backend."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from typer.testing import CliRunner, Result

from example_service.cli import build_cli
from tests.cache.backends import eventually, layer_for, two_level, unique_prefix
from tests.servers import RedisServer, free_port


def cache_cli(*args: str) -> Result:
    return CliRunner().invoke(build_cli(), ["cache", *args])


@pytest.mark.parametrize("command", ["stats", "clear"])
def test_the_in_process_cache_has_nothing_shared(command: str) -> None:
    result = cache_cli(command)
    assert result.exit_code == 0, result.output
    assert "in-process (CACHE_BACKEND=auto)" in result.output
    assert "nothing is shared" in result.output


def test_a_disabled_cache_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CACHE_ENABLED", "false")
    assert cache_cli("stats").output == "The cache is off (CACHE_ENABLED=false).\n"


def test_a_redis_cache_without_redis_url_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CACHE_BACKEND", "redis")
    result = cache_cli("clear")
    assert result.exit_code == 2
    assert "CACHE_BACKEND=redis needs REDIS_URL" in result.stderr


def test_an_unreachable_redis_fails_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    result = cache_cli("stats")
    assert result.exit_code == 1
    assert "the cache's Redis did not answer" in result.stderr


async def test_stats_and_clear_work_on_the_real_keys(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = unique_prefix()
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    monkeypatch.setenv("CACHE_PREFIX", prefix)
    async with layer_for(redis_server.url) as layer, two_level(layer, prefix) as running:
        await running.set_many({f"{prefix}users.{i}": b"u" for i in range(3)}, ttl=60)
        await running.set(prefix + "items.1", b"i", ttl=60)
        await running.get(prefix + "items.1")
        assert len(running.near) == 1  # a running instance holds it near
        # The commands run their own event loop: in a thread, as in a process of their own.
        stats = await asyncio.to_thread(cache_cli, "stats")
        assert stats.exit_code == 0, stats.output
        figures = orjson.loads(stats.stdout)
        assert figures["backend"] == "two-level" and figures["keys"] == 4
        assert "near_entries" not in figures  # the command's own near cache is no one's
        cleared = await asyncio.to_thread(cache_cli, "clear", "--prefix", "users.")
        assert cleared.stdout == f"deleted 3 keys under '{prefix}users.'\n"
        assert await layer.client.exists(prefix + "users.0", prefix + "items.1") == 1
        await eventually(lambda: len(running.near) == 0)  # told to empty its near cache
        cleared = await asyncio.to_thread(cache_cli, "clear")
        assert cleared.stdout == f"deleted 1 keys under '{prefix}'\n"
        assert await layer.client.exists(prefix + "items.1") == 0
