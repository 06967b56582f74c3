"""The process's Redis client: built once in the lifespan from `RedisSettings`.

Every call goes breaker -> auto-pipeline -> one shared `redis.asyncio` client. Failures come
back as `BackendUnavailable`; while the breaker is open calls fail at once instead of waiting
for the timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from example_service.observability.logging import get_logger
from example_service.redis.breaker import CircuitBreaker
from example_service.redis.errors import BackendUnavailable
from example_service.redis.pipeline import AutoPipeline, Script
from example_service.settings import RedisSettings

logger = get_logger("example_service.redis")


class RedisLayer:
    def __init__(
        self,
        client: aioredis.Redis,
        breaker: CircuitBreaker | None = None,
        timeout: float = 0.25,
    ) -> None:
        self.client = client
        self.pipeline = AutoPipeline(client, timeout)
        self.breaker = breaker or CircuitBreaker()

    async def execute(self, *args: Any) -> Any:
        if not self.breaker.allow():
            raise BackendUnavailable("redis: circuit open")
        try:
            result = await self.pipeline.execute(*args)
        except BackendUnavailable:
            self.breaker.record_failure()
            raise
        self.breaker.record_success()
        return result

    async def run_script(self, script: Script, keys: list[Any], args: list[Any]) -> Any:
        if not self.breaker.allow():
            raise BackendUnavailable("redis: circuit open")
        try:
            result = await self.pipeline.run_script(script, keys, args)
        except BackendUnavailable:
            self.breaker.record_failure()
            raise
        self.breaker.record_success()
        return result

    async def run_packed(self, script: Script, packed: bytes, eval_args: tuple[Any, ...]) -> Any:
        """`run_script` for a call the caller packed itself (hot paths cache constant parts)."""
        if not self.breaker.allow():
            raise BackendUnavailable("redis: circuit open")
        try:
            result = await self.pipeline.run_packed(script, packed, eval_args)
        except BackendUnavailable:
            self.breaker.record_failure()
            raise
        self.breaker.record_success()
        return result

    async def ping(self) -> None:
        """Readiness: a direct PING, bypassing the breaker so it reports the server's truth."""
        try:
            await self.client.ping()
        except (RedisError, OSError) as exc:
            raise BackendUnavailable(f"redis: {type(exc).__name__}: {exc}") from exc

    async def aclose(self) -> None:
        # One line per process lifetime: how well auto-pipelining batched (read by bench/).
        logger.info(
            "redis.closed",
            commands=self.pipeline.commands,
            round_trips=self.pipeline.round_trips,
        )
        await self.pipeline.aclose()
        await self.client.aclose()


def create_redis(
    settings: RedisSettings, clock: Callable[[], float] = time.monotonic
) -> RedisLayer | None:
    """The client for REDIS_URL, or None when it is unset (in-process backends)."""
    if settings.url is None:
        return None
    client = aioredis.Redis.from_url(
        settings.url.get_secret_value(),
        socket_connect_timeout=settings.connect_timeout_seconds,
        socket_timeout=settings.timeout_seconds,
        # One immediate retry on a broken connection (e.g. pooled socket after a server
        # restart); never on timeouts, which would double the time a request waits.
        retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
        max_connections=settings.max_connections,
    )
    breaker = CircuitBreaker(
        settings.breaker_failure_threshold, settings.breaker_reset_seconds, clock
    )
    return RedisLayer(client, breaker, settings.timeout_seconds)
