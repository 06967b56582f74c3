"""Retry-After as services send it, and which failures are retried."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from example_service.outbound.errors import (
    MAX_RETRY_AFTER,
    UpstreamStatusError,
    as_problem,
    failed_for_good,
    retry_after,
    retryable,
)
from example_service.resilience.breaker import CircuitBreaker


def answer(status: int, retry_after: str | None = None) -> httpx.Response:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return httpx.Response(status, headers=headers)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("12", 12), ("0", 1), (None, 5), ("soon", 5), ("-3", 5), ("99999999", MAX_RETRY_AFTER)],
)
def test_retry_after_in_seconds(value: str | None, seconds: int) -> None:
    assert retry_after(answer(503, value)) == seconds


def test_retry_after_as_a_date() -> None:
    when = datetime.now(UTC) + timedelta(seconds=90)
    assert 88 <= retry_after(answer(429, format_datetime(when, usegmt=True))) <= 91
    past = datetime.now(UTC) - timedelta(hours=1)
    assert retry_after(answer(429, format_datetime(past, usegmt=True))) == 1


@pytest.mark.parametrize(
    ("exc", "again", "counted"),
    [
        (UpstreamStatusError(answer(503)), True, False),
        (UpstreamStatusError(answer(500)), False, True),
        (UpstreamStatusError(answer(501)), False, True),
        (httpx.ConnectError("refused"), True, False),
        (httpx.ReadTimeout("slow"), True, False),
        (httpx.PoolTimeout("full"), False, False),
        (httpx.DecodingError("bad gzip"), False, True),
        (httpx.LocalProtocolError("bad header"), False, False),
    ],
)
def test_what_is_retried_and_what_counts_without_a_retry(
    exc: Exception, again: bool, counted: bool
) -> None:
    assert retryable(exc) is again
    assert failed_for_good(exc) is counted


def test_an_invalid_request_of_ours_stays_a_500() -> None:
    breaker = CircuitBreaker("http:t")
    assert as_problem(httpx.LocalProtocolError("bad header"), breaker) is None
    assert as_problem(httpx.UnsupportedProtocol("ftp"), breaker) is None
    assert as_problem(ValueError("ours"), breaker) is None
    problem = as_problem(httpx.PoolTimeout("full"), breaker)
    assert problem is not None and problem.status == 503
