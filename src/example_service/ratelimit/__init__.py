"""Rate limiting: policies, backends (in-process, Redis with Lua), middleware, dependencies."""

from example_service.ratelimit.base import Decision, Policy, RateLimitBackend
from example_service.ratelimit.dependencies import (
    named_rate_limit,
    per_api_key_rate_limit,
    per_user_rate_limit,
    rate_limit,
)
from example_service.ratelimit.limiter import RateLimiter
from example_service.ratelimit.login import LoginAttempt, begin_login, login_attempt

__all__ = [
    "Decision",
    "LoginAttempt",
    "Policy",
    "RateLimitBackend",
    "RateLimiter",
    "begin_login",
    "login_attempt",
    "named_rate_limit",
    "per_api_key_rate_limit",
    "per_user_rate_limit",
    "rate_limit",
]
