"""Auto-pipelining: commands issued concurrently leave in one pipeline, one round trip.

A lone redis-py call costs ~90-150 us of client CPU; batched 8-32 per pipeline, 21-38 us each
(measured). Callers just `await auto.execute(...)`: the first command of an event-loop turn
starts a flusher task; every command queued before the flusher runs joins its batch. While a
batch is in flight, new commands queue for the next one, so under load batches grow instead
of opening more connections.

A batch is written as one RESP payload on a dedicated connection and its replies read back
under one deadline: redis-py's Pipeline object adds ~20 us per batch plus per-command
encoding and a timer per reply, which is most of the cost we are trying to save.

Script calls go out as EVALSHA; a NOSCRIPT reply (fresh or restarted server) is retried once
as EVAL, which also loads the script for the next calls.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.connection import Connection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from example_service.resilience.breaker import CircuitBreaker
from example_service.resilience.errors import BackendUnavailable


class _StaleConnectionError(RedisConnectionError):
    """The connection failed before the batch's first reply: safe to send it once more."""


class Script:
    """A Lua script known by its SHA1, computed locally (no SCRIPT LOAD round trip)."""

    __slots__ = ("_headers", "sha", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()
        self._headers: dict[tuple[int, int], bytes] = {}

    def head(self, nkeys: int, nargs: int) -> bytes:
        """RESP head of an EVALSHA call with that many keys and args (built once per shape)."""
        shape = (nkeys, nargs)
        head = self._headers.get(shape)
        if head is None:
            head = pack_command(("EVALSHA", self.sha, nkeys), total=3 + nkeys + nargs)
            self._headers[shape] = head
        return head

    def packed_call(self, keys: list[Any], args: list[Any]) -> bytes:
        """RESP for EVALSHA with these keys and args."""
        return self.head(len(keys), len(args)) + pack_args(keys + args)


# (command args, its RESP bytes, the caller's future, the script when it is an EVALSHA, what
# turns the reply into the future's result)
_Entry = tuple[
    tuple[Any, ...], bytes, "asyncio.Future[Any]", Script | None, Callable[[Any], Any] | None
]


class AutoPipeline:
    """The batching queue. With a breaker, it records each batch's outcome: one success per
    batch that got replies, one failure per command that failed (so a failed batch of three
    or more opens a breaker whose threshold is three, as three failed calls would)."""

    def __init__(
        self,
        client: aioredis.Redis,
        timeout: float,
        max_batch: int = 512,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        # Batches go out one at a time, so one dedicated connection carries them all; it
        # (re)connects lazily on the next write after an error.
        self._conn: Connection = client.connection_pool.make_connection()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
        self._timeout = timeout
        self._max_batch = max_batch
        self._breaker = breaker
        self._queue: list[_Entry] = []
        self._flusher: asyncio.Task[None] | None = None
        # Observable counters: tests and the benchmark read round trips per command.
        self.round_trips = 0
        self.commands = 0
        # With tracing on (observability/tracing.py): each command gets a client span, child of
        # the caller's span, ended when its reply arrives (batches mix several callers' commands).
        self.tracer: Any | None = None

    def execute(self, *args: Any) -> asyncio.Future[Any]:
        return self._enqueue(args, pack_command(args), None, None)

    def run_script(self, script: Script, keys: list[Any], args: list[Any]) -> asyncio.Future[Any]:
        packed = script.packed_call(keys, args)
        return self._enqueue((len(keys), *keys, *args), packed, script, None)

    def run_packed(
        self,
        script: Script,
        packed: bytes,
        eval_args: tuple[Any, ...],
        convert: Callable[[Any], Any] | None = None,
    ) -> asyncio.Future[Any]:
        """A script call already in RESP (`script.head(...)` + `pack_args(...)`); `eval_args`
        (numkeys, keys..., args...) serve the EVAL fallback. With `convert`, the future holds
        `convert(reply)`, so the caller can await it directly, with no coroutine of its own;
        a reply it cannot convert fails the future with `BackendUnavailable`."""
        return self._enqueue(eval_args, packed, script, convert)

    def _enqueue(
        self,
        args: tuple[Any, ...],
        packed: bytes,
        script: Script | None,
        convert: Callable[[Any], Any] | None,
    ) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if self.tracer is not None:
            self.tracer(future, "EVALSHA" if script is not None else str(args[0]))
        self._queue.append((args, packed, future, script, convert))
        if self._flusher is None:
            self._flusher = loop.create_task(self._flush())
        return future

    async def _flush(self) -> None:
        try:
            while self._queue:
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
                await self._send(batch)
        finally:
            self._flusher = None

    async def _send(self, batch: list[_Entry]) -> None:
        try:
            replies = await self._pipeline([entry[1] for entry in batch])
            retry = [
                (i, ("EVAL", script.source, *args))
                for i, (args, _, _, script, _) in enumerate(batch)
                if script is not None and isinstance(replies[i], NoScriptError)
            ]
            if retry:
                evals = [pack_command(command) for _, command in retry]
                for (i, _), reply in zip(retry, await self._pipeline(evals), strict=True):
                    replies[i] = reply
        except (RedisError, OSError) as exc:
            error = BackendUnavailable(f"redis: {type(exc).__name__}: {exc}")
            for entry in batch:
                self._failed()
                if not entry[2].done():
                    entry[2].set_exception(error)
            return
        except BaseException as exc:
            # Cancelled (shutdown) or a bug: no caller may wait forever.
            for entry in batch:
                self._failed()
                if not entry[2].done():
                    entry[2].set_exception(BackendUnavailable(f"redis: {type(exc).__name__}"))
            raise
        self._deliver(batch, replies)

    def _deliver(self, batch: list[_Entry], replies: list[Any]) -> None:
        if self._breaker is not None:
            self._breaker.record_success()
        for (_, _, future, _, convert), reply in zip(batch, replies, strict=True):
            if isinstance(reply, Exception):
                self._failed()  # counted for the breaker whether or not the caller still waits
                if not future.done():
                    future.set_exception(BackendUnavailable(f"redis: {reply}"))
            elif future.done():  # cancelled by its caller
                continue
            elif convert is None:
                future.set_result(reply)
            else:
                try:
                    future.set_result(convert(reply))
                except (TypeError, ValueError) as exc:  # a reply of the wrong shape: unusable
                    self._failed()
                    future.set_exception(BackendUnavailable(f"redis: unexpected reply: {exc}"))

    def _failed(self) -> None:
        if self._breaker is not None:
            self._breaker.record_failure()

    async def _pipeline(self, commands: list[bytes]) -> list[Any]:
        """Write the whole batch at once, then read its replies: one round trip."""
        payload = b"".join(commands)
        self.round_trips += 1
        self.commands += len(commands)
        try:
            return await self._exchange(payload, len(commands))
        except _StaleConnectionError:
            # The socket died before any reply (typically a server restart): one fresh
            # attempt. Once a reply has been read the batch ran, and is never sent twice.
            return await self._exchange(payload, len(commands))

    async def _exchange(self, payload: bytes, count: int) -> list[Any]:
        conn = self._conn
        replies: list[Any] = []
        try:
            # One deadline for the batch instead of one per reply (each costs a timer).
            async with asyncio.timeout(self._timeout):
                await conn.send_packed_command(payload, check_health=False)
                for _ in range(count):
                    try:
                        replies.append(await conn.read_response(timeout=math.inf))
                    except ResponseError as exc:
                        replies.append(exc)
        except TimeoutError:
            # Replies may still be in flight: this socket can no longer be trusted.
            await conn.disconnect(nowait=True)
            raise RedisTimeoutError("redis batch timed out") from None
        except RedisConnectionError as exc:
            await conn.disconnect(nowait=True)
            if not replies:
                raise _StaleConnectionError(str(exc)) from exc
            raise
        except BaseException:
            await conn.disconnect(nowait=True)
            raise
        return replies

    async def aclose(self) -> None:
        await self._conn.disconnect()


def _bulk(arg: Any) -> bytes:
    if isinstance(arg, bytes):
        data = arg
    elif isinstance(arg, str):
        data = arg.encode()
    elif isinstance(arg, int):
        data = b"%d" % arg
    else:
        data = repr(arg).encode()
    return b"$%d\r\n%b\r\n" % (len(data), data)


def pack_args(args: Any) -> bytes:
    return b"".join([_bulk(arg) for arg in args])


def pack_command(args: tuple[Any, ...], total: int | None = None) -> bytes:
    """RESP for one command (arguments are bytes, str or numbers); `total` when more follow."""
    head = b"*%d\r\n" % (len(args) if total is None else total)
    return head + pack_args(args)
