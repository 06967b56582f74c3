"""Named policies from RATE_LIMIT_* settings: the global one and login's three."""

from __future__ import annotations

from example_service.ratelimit.base import Policy
from example_service.settings import RateLimitSettings

DEFAULT = "default"
LOGIN_ACCOUNT = "login_account"  # per account and client address
LOGIN_ACCOUNT_GLOBAL = "login_account_global"  # per account, from every address
LOGIN_CLIENT = "login_client"


def build_policies(settings: RateLimitSettings) -> dict[str, Policy]:
    sliding = settings.algorithm == "sliding_window"
    return {
        DEFAULT: Policy(
            name=DEFAULT,
            limit=settings.requests,
            window=settings.window_seconds,
            algorithm=settings.algorithm,
            # Burst is extra capacity for the windowed algorithms; a fixed window is exact.
            burst=0 if settings.algorithm == "fixed_window" else settings.burst,
            per_hour=settings.per_hour if sliding else None,
        ),
        LOGIN_ACCOUNT: Policy(
            name=LOGIN_ACCOUNT,
            limit=settings.login_per_account,
            window=settings.login_window_seconds,
        ),
        LOGIN_ACCOUNT_GLOBAL: Policy(
            name=LOGIN_ACCOUNT_GLOBAL,
            limit=settings.login_per_account_global,
            window=settings.login_window_seconds,
        ),
        LOGIN_CLIENT: Policy(
            name=LOGIN_CLIENT,
            limit=settings.login_per_client,
            window=settings.login_window_seconds,
        ),
    }
