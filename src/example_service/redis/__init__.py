"""The one Redis client layer: connection, auto-pipelining, breaker, health.

Redis is imported only here and in the `*/redis.py` backends.
"""

from example_service.redis.breaker import BreakerState, CircuitBreaker
from example_service.redis.errors import BackendUnavailable

__all__ = ["BackendUnavailable", "BreakerState", "CircuitBreaker"]
