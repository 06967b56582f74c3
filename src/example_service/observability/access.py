"""The access-log writer: one JSON line per request, without the general processor chain.

This line is written for every request, so it is rendered directly (a bytes template, the shared
sink): a few us against ~20 us through structlog's chain (measured). It has the same keys as every
other line (timestamp, level, logger, event, request_id) and carries no user-supplied values that
would need redaction. In console format the general structlog chain is used instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson

# One line per request; the head (method, route, status) is rendered once per combination.
_HEAD = b'{"logger":"example_service.access","method":%b,"route":%b,"status":%d,'
_LINE = (
    b'%b"duration_ms":%.3f,"client":%b,"event":"http.request","request_id":%b,'
    b'"level":"info","timestamp":"%b.%06dZ"}\n'
)
# With tracing (TELEMETRY_OTEL), as every other line of the request: its trace and span ids.
_TRACED = b'%b"trace_id":"%b","span_id":"%b",'
TraceIds = Callable[[], tuple[str, str] | None]


class AccessLogWriter:
    """Renders the line from bytes templates: ~2x cheaper than a dict through orjson.

    Every value is JSON-escaped: the head (method, route template, status) once per combination
    (cached, bounded), client and request id per line. Lines are queued on the sink
    (`Sink.line_soon`), which writes those of one event-loop turn together: one write(2).
    """

    _CACHE_LIMIT = 1024

    def __init__(self, sink: Any, trace_ids: TraceIds | None = None) -> None:
        self._sink = sink
        self._trace_ids = trace_ids
        self._second = -1
        self._date = b""
        self._heads: dict[tuple[str, str, int], bytes] = {}

    def _new_head(self, method: str, route: str, status: int) -> bytes:
        # Called on a cache miss only.
        head = _HEAD % (orjson.dumps(method), orjson.dumps(route), status)
        if len(self._heads) < self._CACHE_LIMIT:
            self._heads[(method, route, status)] = head
        return head

    def write(
        self,
        method: str,
        route: str,
        status: int,
        duration_ms: float,
        client: str | None,
        *,
        request_id: str | None,
    ) -> None:
        now = time.time()
        second = int(now)
        if second != self._second:
            # The date part changes once a second; format it once per second.
            self._second = second
            self._date = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)).encode()
        head = self._heads.get((method, route, status)) or self._new_head(method, route, status)
        if self._trace_ids is not None and (ids := self._trace_ids()) is not None:
            head = _TRACED % (head, ids[0].encode(), ids[1].encode())
        self._sink.line_soon(
            _LINE
            % (
                head,
                duration_ms,
                orjson.dumps(client),
                orjson.dumps(request_id),
                self._date,
                int((now - second) * 1e6),
            )
        )


class StructlogAccessLog:
    """Console format: the general chain (readability over speed)."""

    def __init__(self, logger: Any) -> None:
        self._logger = logger

    def write(
        self,
        method: str,
        route: str,
        status: int,
        duration_ms: float,
        client: str | None,
        *,
        request_id: str | None,
    ) -> None:
        # The request id comes from the context, as on every structlog line.
        self._logger.info(
            "http.request",
            method=method,
            route=route,
            status=status,
            duration_ms=duration_ms,
            client=client,
        )
