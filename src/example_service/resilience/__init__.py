"""Resilience: one circuit breaker per dependency, retries through stamina."""

from example_service.resilience.breaker import BreakerOpenError, BreakerState, CircuitBreaker
from example_service.resilience.registry import Breakers
from example_service.resilience.retry import RetryPolicy, call_with_retry

__all__ = [
    "BreakerOpenError",
    "BreakerState",
    "Breakers",
    "CircuitBreaker",
    "RetryPolicy",
    "call_with_retry",
]
