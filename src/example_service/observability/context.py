"""The request id of the request being served, for logs and error bodies.

One ContextVar rather than structlog's bound contextvars: reading it costs one lookup, and the
request id middleware sets and resets it around each request.
"""

from __future__ import annotations

from contextvars import ContextVar

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    return request_id_var.get()
