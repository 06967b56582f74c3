"""The process's Redis client: built once in the lifespan from `RedisSettings`.

Every call goes breaker -> auto-pipeline -> one shared `redis.asyncio` client. Failures come
back as `BackendUnavailable`; while the breaker is open calls fail at once instead of waiting
for the timeout. The pipeline records each batch's outcome in the breaker, so a call costs the
breaker one check, not a check and a record.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from example_service.observability.logging import get_logger
from example_service.redis.pipeline import AutoPipeline, Script
from example_service.resilience.breaker import CircuitBreaker
from example_service.resilience.errors import BackendUnavailable
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
        self.breaker = breaker or CircuitBreaker("redis", 3, 5.0)
        self.timeout = timeout  # a command's deadline (REDIS_TIMEOUT_SECONDS)
        self.pipeline = AutoPipeline(client, timeout, breaker=self.breaker)

    def _admit(self) -> None:
        if not self.breaker.allow():
            raise BackendUnavailable("redis: circuit open")

    async def execute(self, *args: Any) -> Any:
        self._admit()
        return await self.pipeline.execute(*args)

    async def run_script(self, script: Script, keys: list[Any], args: list[Any]) -> Any:
        self._admit()
        return await self.pipeline.run_script(script, keys, args)

    def submit_packed(
        self,
        script: Script,
        packed: bytes,
        eval_args: tuple[Any, ...],
        convert: Callable[[Any], Any] | None = None,
    ) -> asyncio.Future[Any]:
        """`run_script` for a call the caller packed itself, as a future to await.

        For the per-request path (the rate limiter): no coroutine of its own to create and
        resume, and the constant parts of the call are cached by the caller. Raises
        `BackendUnavailable` at once while the breaker is open; the future fails with it.
        """
        self._admit()
        return self.pipeline.run_packed(script, packed, eval_args, convert)

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
    settings: RedisSettings, breaker: CircuitBreaker | None = None
) -> RedisLayer | None:
    """The client for REDIS_URL, or None when it is unset (in-process backends).

    `breaker`: the app's "redis" breaker (see resilience/); a default one otherwise.
    """
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
    return RedisLayer(client, breaker, settings.timeout_seconds)
