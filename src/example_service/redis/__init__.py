"""The one Redis client layer: connection, auto-pipelining, health (its breaker: resilience/).

Redis is imported only here and in the `*/redis.py` backends.
"""

from example_service.redis.errors import BackendUnavailable

__all__ = ["BackendUnavailable"]
