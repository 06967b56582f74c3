"""What an outbound failure means: for the breaker, for a retry, and for the API's own client.

| what happened                                  | breaker | retried (idempotent) | problem    |
|------------------------------------------------|---------|----------------------|------------|
| breaker open                                   | -       | no                   | 503 + wait |
| connection refused or timed out                | failure | yes                  | 503        |
| no free pooled connection (our own saturation) | -       | no                   | 503        |
| read/write timeout, attempt over its deadline  | failure | yes                  | 504        |
| connection reset or closed mid-answer          | failure | yes                  | 502        |
| 502 / 503 / 504 answer                         | failure | yes                  | same       |
| 500 or another 5xx, an undecodable body        | failure | no                   | 502        |
| 429                                            | success | no                   | 503 + wait |
| any other answer                               | success | no                   | returned   |

A 500 counts against the breaker (a service that fails every call should be left alone) but is
not retried: it answered this very request, and the same request is likely to fail the same
way. A 429 is the service protecting itself: it is answering, so it closes a breaker rather than
opening it, and retrying before its Retry-After would only be refused again, so the API's client
gets a 503 with that wait. Errors of our own making (an invalid URL or header) stay 500s.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from example_service.errors.exceptions import (
    AppError,
    ServiceUnavailableError,
    UpstreamError,
    UpstreamTimeoutError,
)
from example_service.errors.translate import UNAVAILABLE_RETRY_AFTER
from example_service.resilience.breaker import BreakerOpenError, CircuitBreaker

RETRYABLE_STATUSES = frozenset({502, 503, 504})
# A Retry-After passed on is capped: a wrong date upstream must not park our clients for days.
MAX_RETRY_AFTER = 3600

# Transient failures: the next attempt may well succeed (a pooled connection the service closed,
# a restart, a moment of overload). Pool timeouts are not here: they are our own saturation.
_TRANSIENT = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
    TimeoutError,  # the attempt's deadline (asyncio.timeout)
)
_TIMEOUTS = (httpx.ReadTimeout, httpx.WriteTimeout, TimeoutError)
_UNAVAILABLE = (BreakerOpenError, httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class UpstreamStatusError(Exception):
    """A 5xx answer, raised inside the breaker so that it counts (and may be retried)."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        super().__init__(f"answered {response.status_code}")


def retryable(exc: BaseException) -> bool:
    """A failure of the service that another attempt may not meet (and a breaker failure)."""
    if isinstance(exc, UpstreamStatusError):
        return exc.response.status_code in RETRYABLE_STATUSES
    return isinstance(exc, _TRANSIENT)


def failed_for_good(exc: BaseException) -> bool:
    """A failure of the service that another attempt would meet again: counted, not retried."""
    return isinstance(exc, UpstreamStatusError | httpx.DecodingError) and not retryable(exc)


def retry_after(response: httpx.Response, default: int = UNAVAILABLE_RETRY_AFTER) -> int:
    """The response's Retry-After in whole seconds (delay or HTTP date), else `default`."""
    value = response.headers.get("retry-after", "").strip()
    if value.isdigit():
        seconds = int(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return default
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = math.ceil((when - datetime.now(UTC)).total_seconds())
    return min(max(1, seconds), MAX_RETRY_AFTER)


def _unavailable(breaker: CircuitBreaker, default: int = UNAVAILABLE_RETRY_AFTER) -> AppError:
    # The failure may just have opened the breaker: then its recovery is the honest wait.
    wait = math.ceil(breaker.retry_after()) or default
    return ServiceUnavailableError(
        "A service this request depends on is unavailable; retry later.",
        retry_after=max(1, wait),
    )


def as_problem(exc: Exception, breaker: CircuitBreaker) -> AppError | None:
    """The problem the API answers for an outbound failure; None for a bug of ours (a 500)."""
    if isinstance(exc, UpstreamStatusError):
        status = exc.response.status_code
        if status == 503:
            return _unavailable(breaker, retry_after(exc.response))
        return UpstreamTimeoutError() if status == 504 else UpstreamError()
    if isinstance(exc, _UNAVAILABLE):
        return _unavailable(breaker)
    if isinstance(exc, _TIMEOUTS):
        return UpstreamTimeoutError()
    # Reset, closed mid-answer, or not HTTP at all: the service's answer is unusable. Unless
    # the request we built was invalid (a bad header, a wrong scheme): that is our bug.
    unusable = isinstance(exc, httpx.TransportError | httpx.DecodingError) and not isinstance(
        exc, httpx.LocalProtocolError | httpx.UnsupportedProtocol
    )
    return UpstreamError() if unusable else None


def throttled(response: httpx.Response) -> AppError:
    """The service answered 429: our client waits as long as it was told to."""
    return ServiceUnavailableError(
        "A service this request depends on is busy; retry later.",
        retry_after=retry_after(response),
    )
