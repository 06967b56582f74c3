"""One pub/sub channel, on a connection of its own, kept subscribed by a task of its own.

A subscribed connection can carry nothing else, so it is not the auto-pipeline's and not a
pooled one: it is made from the client's settings (URL, credentials, connect timeout) and
owned here. redis-py's `PubSub` is not used because it reconnects and resubscribes on its
own, silently: a subscriber that misses messages while away must know it was away (the
two-level cache drops its near entries then), so every (re)subscription and every loss goes
through `on_state`.

Losing the connection is noticed at once when the server closes it; a server that stops
answering (frozen, or a dead network path) is noticed by PINGs: silent for `ping_every`, the
subscriber pings, and after three silent periods it gives the connection up. Reconnecting waits
as stamina's backoff says (jittered, exponential, capped at `wait_max`): a Redis that is down
costs one connection attempt per wait, never a spinning loop. In stamina's testing mode
(the test suite) attempts are not retried and the subscriber stops after the first failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import stamina
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from example_service.observability.logging import get_logger
from example_service.redis.pipeline import pack_command

if TYPE_CHECKING:
    from redis.asyncio.connection import Connection

    from example_service.redis.client import RedisLayer

logger = get_logger("example_service.redis")

_ERRORS = (RedisError, OSError)  # OSError includes the builtin TimeoutError
_PING = pack_command(("PING",))
_SILENT_PERIODS = 3


class Subscriber:
    def __init__(
        self,
        layer: RedisLayer,
        channel: str,
        on_message: Callable[[bytes], None],
        on_state: Callable[[bool], None],
        *,
        ping_every: float = 1.0,
        wait_initial: float = 0.1,
        wait_max: float = 5.0,
    ) -> None:
        self.layer = layer
        self.channel = channel
        self.on_message = on_message
        self.on_state = on_state  # True once (re)subscribed, False when the connection is lost
        self.ping_every = ping_every
        self.wait_initial = wait_initial
        self.wait_max = wait_max
        self.subscriptions = 0  # successful (re)subscriptions, for stats and tests
        self.attempts = 0  # connection attempts, successful or not
        self._subscribed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def subscribed(self) -> bool:
        return self._subscribed.is_set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name=f"redis subscriber {self.channel}"
            )

    async def wait_subscribed(self, within: float) -> bool:
        """Whether the channel is subscribed within `within` seconds."""
        try:
            async with asyncio.timeout(within):
                await self._subscribed.wait()
        except TimeoutError:
            return False
        return True

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        try:
            while True:  # one pass per connection; the waits between are stamina's
                conn = await self._subscribe()
                try:
                    self.subscriptions += 1
                    self._subscribed.set()
                    logger.info("redis.subscribed", channel=self.channel)
                    self.on_state(True)
                    await self._listen(conn)
                # Whatever ends the connection (a handler's bug included), the subscriber
                # must say so and come back: its owner trusts it to deliver every message.
                except Exception as exc:  # noqa: BLE001
                    logger.warning(
                        "redis.subscriber_lost", channel=self.channel, reason=_reason(exc)
                    )
                    self._subscribed.clear()
                    self.on_state(False)
                finally:  # cancelled (shutdown) included: the owner is closing, no callback
                    self._subscribed.clear()
                    await conn.disconnect(nowait=True)
        except _ERRORS as exc:  # stamina gave up: only in its testing mode
            logger.warning("redis.subscriber_stopped", channel=self.channel, reason=_reason(exc))

    async def _subscribe(self) -> Connection:
        conn: Connection | None = None
        async for attempt in stamina.retry_context(
            on=_ERRORS,
            attempts=None,
            timeout=None,
            wait_initial=self.wait_initial,
            wait_max=self.wait_max,
            wait_jitter=self.wait_initial,
        ):
            with attempt:
                conn = await self._connect()
        assert conn is not None  # noqa: S101 - stamina ends the loop only on success or raises
        return conn

    async def _connect(self) -> Connection:
        self.attempts += 1
        conn: Connection = self.layer.client.connection_pool.make_connection()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
        try:
            await conn.connect()  # type: ignore[no-untyped-call]  # bounded by REDIS_CONNECT_TIMEOUT_SECONDS
            # A frozen server accepts the TCP connection (the kernel does) and never answers.
            async with asyncio.timeout(self.layer.timeout):
                subscribe = pack_command(("SUBSCRIBE", self.channel))
                await conn.send_packed_command(subscribe, check_health=False)
                reply = await conn.read_response(timeout=math.inf, push_request=True)
            if not (isinstance(reply, list) and reply[:1] == [b"subscribe"]):
                raise RedisConnectionError(f"unexpected reply to SUBSCRIBE: {reply!r}")
        except BaseException:
            await conn.disconnect(nowait=True)
            raise
        return conn

    async def _listen(self, conn: Connection) -> None:
        silent = 0
        while True:
            # None when nothing came within the period; a connection error raises. With RESP3
            # (redis-py's default) messages are push replies, which the parser drops unless
            # asked for them.
            reply = await conn.read_response(timeout=self.ping_every, push_request=True)
            if reply is None:
                silent += 1
                if silent >= _SILENT_PERIODS:
                    raise RedisTimeoutError(f"no reply to PING in {silent * self.ping_every}s")
                await conn.send_packed_command(_PING, check_health=False)
                continue
            silent = 0
            if isinstance(reply, list) and len(reply) == 3 and reply[0] == b"message":
                self.on_message(reply[2])


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
