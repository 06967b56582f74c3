"""Rate limiting: policies, backends (in-process, Redis with Lua), middleware, dependencies."""

from example_service.ratelimit.base import Decision, Policy, RateLimitBackend
from example_service.ratelimit.dependencies import (
    named_rate_limit,
    per_api_key_rate_limit,
    per_user_rate_limit,
    rate_limit,
)
from example_service.ratelimit.limiter import RateLimiter
from example_service.ratelimit.login import check_login_allowed

__all__ = [
    "Decision",
    "Policy",
    "RateLimitBackend",
    "RateLimiter",
    "check_login_allowed",
    "named_rate_limit",
    "per_api_key_rate_limit",
    "per_user_rate_limit",
    "rate_limit",
]
