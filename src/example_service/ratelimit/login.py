"""Login limits (RATE_LIMIT_LOGIN_*): failed password checks, counted so that a guesser is
stopped and the account's owner is not.

Three fixed-window counters, each of failed checks per login window:

- per account and client address (`login_per_account`, strict): the brute-force limit. Only
  that address's own failures count, so nobody elsewhere can spend it;
- per account from every address (`login_per_account_global`, much higher): a ceiling
  against guessing spread over many addresses;
- per client address across accounts (`login_per_client`): one address spraying accounts.

An address the account logged in from recently (`login_known_address_days`) is held to the
first counter only: while guessers elsewhere hold the account at its ceiling, its owner, from
an address they used before, still logs in. An owner on a new address during such an attack
waits for the window like the guessers (the price of the ceiling).

Each attempt reserves one unit on its counters before the password is checked, so a refused
attempt costs no hashing and parallel guesses cannot overshoot a limit (a check-then-record
would let every guess in flight through). A failed check keeps the reservation: that is the
failure counted. A success gives the reservations back (logging in does not spend the budget)
and marks the address as known; so does an error that says nothing about the password.
Emails are hashed before they become keys: no addresses in Redis.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from example_service.errors.exceptions import UnauthorizedError
from example_service.ratelimit.base import Policy
from example_service.ratelimit.limiter import RateLimiter, rejection
from example_service.ratelimit.policies import LOGIN_ACCOUNT, LOGIN_ACCOUNT_GLOBAL, LOGIN_CLIENT

LOGIN_DETAIL = "Too many login attempts; retry later."
DAY = 86_400


def account_key(email: str) -> str:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return "acct:" + digest


class LoginAttempt:
    """The units one attempt reserved, before its password is checked."""

    def __init__(
        self, limiter: RateLimiter, known_key: str, reserved: list[tuple[str, Policy]]
    ) -> None:
        self.limiter = limiter
        self.known_key = known_key
        self.reserved = reserved

    async def succeeded(self) -> None:
        """The password was right: give the units back and remember the address."""
        days = self.limiter.settings.login_known_address_days
        remember = [self.limiter.mark(self.known_key, days * DAY)] if days else []
        await asyncio.gather(*remember, self._give_back())

    async def abandoned(self) -> None:
        """Nothing was learnt about the password (an error before or during the check)."""
        await self._give_back()

    async def _give_back(self) -> None:
        await asyncio.gather(*(self.limiter.refund(key, policy) for key, policy in self.reserved))


async def begin_login(limiter: RateLimiter, email: str, client: str | None) -> LoginAttempt:
    """Reserve this attempt on each counter that applies, or raise `RateLimitError` (and
    reserve nothing) when one of them is spent. A failed check needs no call: it keeps them."""
    account = account_key(email)
    address = "ip:" + (client or "unknown")
    known_key = f"{account}|{address}"
    policies = limiter.policies
    counters = [(known_key, policies[LOGIN_ACCOUNT])]
    if not (limiter.settings.login_known_address_days and await limiter.is_marked(known_key)):
        counters += [(account, policies[LOGIN_ACCOUNT_GLOBAL]), (address, policies[LOGIN_CLIENT])]
    # The hits leave in one pipeline when the backend is Redis.
    decisions = await asyncio.gather(*(limiter.hit(key, policy) for key, policy in counters))
    pairs = list(zip(counters, decisions, strict=True))
    attempt = LoginAttempt(limiter, known_key, [c for c, d in pairs if d.allowed])
    refused = [(policy, d) for (_, policy), d in pairs if not d.allowed]
    if not refused:
        return attempt
    await attempt.abandoned()  # a refused attempt spends nothing on the other counters
    policy, decision = refused[0]
    raise rejection(decision, limiter.headers(policy, decision), LOGIN_DETAIL)


@asynccontextmanager
async def login_attempt(
    limiter: RateLimiter, email: str, client: str | None
) -> AsyncIterator[LoginAttempt]:
    """`begin_login`, then settle the attempt by how the block ends: an `UnauthorizedError`
    (the password check failed) keeps the reservations, another error gives them back, and
    leaving normally is a success."""
    attempt = await begin_login(limiter, email, client)
    try:
        yield attempt
    except UnauthorizedError:
        raise
    except Exception:
        await attempt.abandoned()
        raise
    await attempt.succeeded()
