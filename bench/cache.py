"""A cache hit, ours against cashews: `python -m bench.cache [--redis-url URL]`.

One small JSON value (a user, ~150 bytes) read back and decoded to a dict: client CPU (and
wall time) per get, awaited one at a time and 32 at once (`asyncio.gather`), in process and
on a local redis-server (started here unless --redis-url names one). Rows alternate round by
round; each figure is the median of the rounds. Also the lines of code each side needs.

cashews is measured only when it is importable (it is not a dependency of the service):

    uv venv /tmp/cashews-venv && uv pip install --python /tmp/cashews-venv cashews redis
    PYTHONPATH=/tmp/cashews-venv/lib/python3.11/site-packages python -m bench.cache

cashews is set up with `pickle_type=json` (its default for Redis is pickle, which this
service never reads); its in-process backend keeps the Python object itself, no JSON at all.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import importlib.util
import shutil
import socket
import statistics
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import orjson

from example_service.cache.memory import MemoryBackend
from example_service.cache.redis import RedisBackend
from example_service.cache.twolevel import TwoLevelBackend
from example_service.observability.logging import configure_logging
from example_service.redis.client import RedisLayer, create_redis
from example_service.settings import LogSettings, RedisSettings

VALUE = {
    "id": 42,
    "email": "ada@example.com",
    "full_name": "Ada Lovelace",
    "role": "user",
    "is_active": True,
    "created_at": "2026-11-30T12:00:00Z",
}
KEY = "bench:cache:user:42"
GETS = 20_000
ROUNDS = 5
Get = Callable[[], Awaitable[Any]]
Setup = Callable[[AsyncExitStack, str], Awaitable[Get]]


async def ours_memory(_stack: AsyncExitStack, _url: str) -> Get:
    backend = MemoryBackend()
    await backend.set(KEY, orjson.dumps(VALUE), ttl=3600)

    async def get() -> Any:
        return orjson.loads(await backend.get(KEY))  # type: ignore[arg-type]

    return get


def _layer(stack: AsyncExitStack, url: str) -> RedisLayer:
    layer = create_redis(RedisSettings(url=url, timeout_seconds=5))
    if layer is None:
        raise SystemExit("no Redis URL")
    stack.push_async_callback(layer.aclose)
    return layer


async def ours_redis(stack: AsyncExitStack, url: str) -> Get:
    layer = _layer(stack, url)
    backend = RedisBackend(layer, "bench:")
    await backend.set(KEY, orjson.dumps(VALUE), ttl=3600)

    async def get() -> Any:
        return orjson.loads(await backend.get(KEY))  # type: ignore[arg-type]

    return get


async def ours_two_level(stack: AsyncExitStack, url: str) -> Get:
    layer = _layer(stack, url)
    backend = TwoLevelBackend(RedisBackend(layer, "bench:"), channel="bench:inv", near_ttl=3600)
    stack.push_async_callback(backend.aclose)
    await backend.start()
    await backend.set(KEY, orjson.dumps(VALUE), ttl=3600)
    await backend.get(KEY)  # now held near: every get below is a near hit

    async def get() -> Any:
        return orjson.loads(await backend.get(KEY))  # type: ignore[arg-type]

    return get


def cashews_setup(url: str | None, **options: Any) -> Setup:
    async def setup(stack: AsyncExitStack, redis_url: str) -> Get:
        cache = importlib.import_module("cashews").Cache()  # optional: no static import
        cache.setup(url or redis_url, **options)
        stack.push_async_callback(cache.close)
        await cache.set(KEY, VALUE, expire=3600)
        await cache.get(KEY)  # client_side: now held locally

        async def get() -> Any:
            return await cache.get(KEY)

        return get

    return setup


ROWS: dict[str, Setup] = {
    "ours, in-process (bytes + orjson)": ours_memory,
    "cashews mem:// (the object itself)": cashews_setup("mem://"),
    "ours, two-level near hit": ours_two_level,
    "cashews redis client_side hit": cashews_setup(None, pickle_type="json", client_side=True),
    "ours, Redis (auto-pipelined)": ours_redis,
    "cashews redis (json)": cashews_setup(None, pickle_type="json"),
}


async def measure(get: Get, concurrency: int) -> tuple[float, float]:
    """Client CPU and wall time per get, in microseconds."""
    cpu, wall = time.process_time(), time.perf_counter()
    if concurrency == 1:
        for _ in range(GETS):
            await get()
    else:
        for _ in range(GETS // concurrency):
            await asyncio.gather(*[get() for _ in range(concurrency)])
    gets = GETS // concurrency * concurrency
    return (time.process_time() - cpu) / gets * 1e6, (time.perf_counter() - wall) / gets * 1e6


@contextlib.contextmanager
def redis_server(url: str | None) -> Iterator[str]:
    if url is not None:
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server not found (apt-get install redis-server) or --redis-url")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    process = subprocess.Popen([*args, "--appendonly", "no"], stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                break
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait()


def code_lines() -> None:
    """Non-blank lines: what each side brings for Redis, two levels and tags."""
    src = Path(__file__).resolve().parent.parent / "src" / "example_service"
    ours = [src / "cache" / name for name in ("redis.py", "twolevel.py")]
    ours += [*sorted((src / "cache").glob("*.lua")), src / "redis" / "subscriber.py"]
    print(f"\nours: {_lines(ours)} lines (Redis and two-level backends, subscriber, scripts)")
    spec = importlib.util.find_spec("cashews")
    if spec is not None and spec.origin is not None:
        package = Path(spec.origin).parent
        print(f"cashews: {_lines(list(package.rglob('*.py')))} lines in the package")


def _lines(paths: list[Path]) -> int:
    return sum(1 for path in paths for line in path.read_text().splitlines() if line.strip())


async def main(url: str) -> None:
    rows = dict(ROWS)
    if importlib.util.find_spec("cashews") is None:
        print("cashews is not installed: its rows are skipped (see this module's docstring)")
        rows = {name: setup for name, setup in rows.items() if not name.startswith("cashews")}
    figures: dict[tuple[str, int], list[tuple[float, float]]] = {}
    for _ in range(ROUNDS):
        for name, setup in rows.items():
            async with AsyncExitStack() as stack:
                get = await setup(stack, url)
                for concurrency in (1, 32):
                    figures.setdefault((name, concurrency), []).append(
                        await measure(get, concurrency)
                    )
    print(f"{'get of a small JSON value':38} {'conc':>4} {'CPU us/get':>11} {'wall us/get':>12}")
    for (name, concurrency), runs in figures.items():
        cpu = statistics.median(run[0] for run in runs)
        wall = statistics.median(run[1] for run in runs)
        print(f"{name:38} {concurrency:>4} {cpu:>11.2f} {wall:>12.2f}")
    code_lines()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", help="an existing server (default: start one)")
    configure_logging(LogSettings(level="WARNING"))
    with redis_server(parser.parse_args().redis_url) as redis_url:
        asyncio.run(main(redis_url))
