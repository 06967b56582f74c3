"""Login attempts limited per account and per client address (RATE_LIMIT_LOGIN_*).

The auth code calls `check_login_allowed` before verifying a password, so a refused attempt
costs no hashing. Every attempt counts, successful or not: the check runs before the outcome
is known, and a guesser gains nothing from the difference. The email is hashed before it
becomes a key: no addresses in Redis.
"""

from __future__ import annotations

import asyncio
import hashlib

from example_service.ratelimit.limiter import RateLimiter, rejection
from example_service.ratelimit.policies import LOGIN_ACCOUNT, LOGIN_CLIENT

LOGIN_DETAIL = "Too many login attempts; retry later."


def account_key(email: str) -> str:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return "acct:" + digest


async def check_login_allowed(limiter: RateLimiter, email: str, client: str | None) -> None:
    """Count one attempt for `email` and for `client`; raise `RateLimitError` over either."""
    account_policy = limiter.policies[LOGIN_ACCOUNT]
    client_policy = limiter.policies[LOGIN_CLIENT]
    # Both hits leave in the same pipeline when the backend is Redis.
    account, by_client = await asyncio.gather(
        limiter.hit(account_key(email), account_policy),
        limiter.hit("ip:" + (client or "unknown"), client_policy),
    )
    for decision, policy in ((account, account_policy), (by_client, client_policy)):
        if not decision.allowed:
            raise rejection(decision, limiter.headers(policy, decision), LOGIN_DETAIL)
