"""The one Redis client layer: connection, auto-pipelining, health (its breaker: resilience/).

Redis is imported only here and in the `*/redis.py` backends. The error they raise,
`BackendUnavailable`, is resilience/errors.py's: fail-open code catches it without this package.
"""

from example_service.resilience.errors import BackendUnavailable

__all__ = ["BackendUnavailable"]
