"""A real HTTP/1.1 server on 127.0.0.1 that misbehaves on request, for the outbound tests.

Raw asyncio rather than an ASGI app: resets, trickles and garbage are what a framework would
tidy away. Every answer closes its connection, so `connections` counts every connection the
client opened, and `requests` what it sent.

    /status/<code>[?retry_after=N]   that status, a small JSON body
    /flaky/<n>                       503 for the first n requests to it, then 200
    /slow/<seconds>                  200 after that long
    /trickle                         a body of 100 bytes, one every 0.1 s
    /reset                           headers and part of the body, then a TCP reset
    /garbage                         bytes that are not HTTP
    anything else                    200, the request's headers as JSON
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
from collections import Counter
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]


def _answer(status: int, body: bytes, *extra: str) -> bytes:
    head = [
        f"HTTP/1.1 {status} X",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *extra,
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class Upstream:
    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self.connections = 0
        self._hits: Counter[str] = Counter()
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def paths(self) -> list[str]:
        return [seen.path for seen in self.requests]

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self.connections += 1
        try:
            await self._answer(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client gave up (its timeout): nothing to answer
        finally:
            self._handlers.discard(task)
            writer.close()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        line, *fields = head.rstrip("\r\n").split("\r\n")
        method, target, _ = line.split(" ")
        headers = {k.strip().lower(): v.strip() for k, v in (f.split(":", 1) for f in fields)}
        await reader.readexactly(int(headers.get("content-length", "0")))
        self.requests.append(Seen(method, target, headers))
        url = urlsplit(target)
        self._hits[url.path] += 1
        kind, _, arg = url.path.strip("/").partition("/")
        if kind == "status":
            extra = [f"Retry-After: {v}" for v in parse_qs(url.query).get("retry_after", [])]
            writer.write(_answer(int(arg), json.dumps({"status": int(arg)}).encode(), *extra))
        elif kind == "flaky":
            status = 503 if self._hits[url.path] <= int(arg) else 200
            writer.write(_answer(status, b'{"flaky": true}'))
        elif kind == "slow":
            await asyncio.sleep(float(arg))
            writer.write(_answer(200, b'{"slow": true}'))
        elif kind == "trickle":
            writer.write(b"HTTP/1.1 200 X\r\nContent-Length: 100\r\nConnection: close\r\n\r\n")
            for _ in range(100):
                await writer.drain()
                await asyncio.sleep(0.1)
                writer.write(b"x")
        elif kind == "reset":
            writer.write(_answer(200, b"x" * 1000)[:-900])
            await writer.drain()
            await asyncio.sleep(0.05)  # the client has the headers: the reset is mid-body
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return
        elif kind == "garbage":
            writer.write(b"hello, this is not HTTP\r\n\r\n")
        else:
            writer.write(_answer(200, json.dumps(headers).encode()))
        with contextlib.suppress(ConnectionError):
            await writer.drain()


def refused_url() -> str:
    """A URL on 127.0.0.1 where nothing listens: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
