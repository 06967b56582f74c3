"""The one exception a Redis-backed feature sees, whatever went wrong underneath.

Fail-open layers catch `BackendUnavailable` and nothing else: connection refused, timeouts,
server errors and an open breaker all arrive as this type, so callers never import redis.
"""

from __future__ import annotations


class BackendUnavailable(Exception):  # noqa: N818 - reads as a state, like TimeoutError
    """The shared backend could not answer; use the in-process fallback."""
