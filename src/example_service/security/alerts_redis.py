"""Alert counts shared by every process through Redis (alert_count.lua, on the server's clock):
each window's threshold is crossed once for the whole deployment, whichever process sees it."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from example_service.redis.client import RedisLayer
from example_service.redis.pipeline import Script


class RedisAlertCounts:
    def __init__(self, redis: RedisLayer, prefix: str = "abuse:") -> None:
        self.redis = redis
        self.prefix = prefix
        clock = files("example_service.ratelimit").joinpath("redis_time.lua").read_text()
        source = files("example_service.security").joinpath("alert_count.lua").read_text()
        self._count = Script(self.clock_prelude(clock) + source)

    def clock_prelude(self, server_time: str) -> str:
        """The Lua defining `now` (ms): the server's TIME (tests override it, with `now_args`)."""
        return server_time

    def now_args(self) -> list[Any]:
        return []

    async def count(self, kind: str, client: str, window: int) -> tuple[int, int, int]:
        """One refusal of `kind` to `client`: (the client's count, the total, window index)."""
        client_count, total, index = await self.redis.run_script(
            self._count,
            [f"{self.prefix}alerts:{kind}"],
            [client, window * 1000, *self.now_args()],
        )
        return int(client_count), int(total), int(index)
