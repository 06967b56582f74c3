"""The one exception a shared-backend feature sees, whatever went wrong underneath.

Fail-open layers catch `BackendUnavailable` and nothing else: connection refused, timeouts,
server errors and an open breaker all arrive as this type, so callers never import redis. It
lives here, not beside the Redis client, because the fail-open code stays in a project built
without Redis.
"""

from __future__ import annotations


class BackendUnavailable(Exception):  # noqa: N818 - reads as a state, like TimeoutError
    """The shared backend could not answer; use the in-process fallback."""
