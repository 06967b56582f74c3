"""uvicorn's httptools protocol with a deadline for the request head.

uvicorn has no header timeout: the first byte of a request disarms its keep-alive timer until the
response is sent, and a new connection has no timer at all, so a client that sends a header byte
now and then (or nothing) keeps its connection for ever. This subclass notes when the pending head
started, in the callbacks asyncio (`connection_made`, `connection_lost`) and httptools
(`on_message_begin`, `on_headers_complete`) define, and the process's one `HeadSweeper` closes
connections whose head is older than SERVER_HEADER_TIMEOUT_SECONDS. A new connection counts from
its opening, a kept-alive one from the first byte of its next request. Per request this costs two
Python calls, a clock read and two attribute stores; bodies have their own deadline in the ASGI
layer (see middleware/input_guard.py).

It is also the parser `serve` always uses: httptools answers a request with a framing error (both
Content-Length and Transfer-Encoding, or conflicting Content-Lengths) with one 400 and closes the
connection, where uvicorn's h11 protocol also answered the leftover bytes as another request.

The base class lives in a uvicorn module that is not public API: pyproject.toml pins uvicorn to
the versions this was tested with, and tests/serving/ fails loudly if the callbacks stop being
called.
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from example_service.observability.logging import get_logger
from example_service.serving.config import ServiceConfig
from example_service.serving.sweeper import HeadSweeper

logger = get_logger("example_service.serving")


class HeadDeadlineProtocol(HttpToolsProtocol):
    head_started: float | None = None
    sweeper: HeadSweeper | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        config = self.config
        if not isinstance(config, ServiceConfig):
            raise TypeError("HeadDeadlineProtocol is served with a ServiceConfig")
        loop = asyncio.get_running_loop()
        self.now = loop.time
        self.head_started = loop.time()
        self.head_transport = transport
        self.sweeper = config.head_sweeper(loop)
        self.sweeper.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.sweeper is not None:
            self.sweeper.discard(self)
        super().connection_lost(exc)

    # The two callbacks below run on every request: together about 5k instructions, 1 % of a
    # request's by callgrind. The base is called by name, which measured a little under super().

    def on_message_begin(self) -> None:
        # A new connection's first head counts from the connection itself.
        if self.head_started is None:
            self.head_started = self.now()
        HttpToolsProtocol.on_message_begin(self)

    def on_headers_complete(self) -> None:
        self.head_started = None
        HttpToolsProtocol.on_headers_complete(self)

    def head_overdue(self) -> None:
        # Closed without an answer, as nginx does: a 408 on a connection that never sent a byte
        # (a browser's preconnect) would only confuse the client.
        logger.info("http.head_timeout", client=self.head_transport.get_extra_info("peername"))
        self.head_transport.close()

    def gone(self) -> bool:
        return self.head_transport.is_closing()
