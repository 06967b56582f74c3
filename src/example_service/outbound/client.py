"""One service the API calls, over the process's one `httpx.AsyncClient`.

Each call gets the service's base URL and timeouts, the current request id, the service's breaker
(`http:<service>`) and, when it is idempotent, retries (RESILIENCE_RETRY_*). An answer comes back
as the `httpx.Response`, 4xx included: what a 404 from the service means is the caller's
business. A failure leaves as problem details (errors.py says which), never as an httpx error.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from typing import Any, TypedDict, Unpack

import httpx

from example_service.errors.exceptions import AppError
from example_service.observability.context import current_request_id
from example_service.observability.logging import get_logger
from example_service.outbound.errors import (
    UpstreamStatusError,
    as_problem,
    failed_for_good,
    retryable,
    throttled,
)
from example_service.outbound.metrics import OutboundMetrics
from example_service.resilience.breaker import CircuitBreaker
from example_service.resilience.retry import RetryPolicy, call_with_retry

# Safe to send twice: the second has the effect of the first (RFC 9110, 9.2.2).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})

Primitive = str | int | float | bool | None
Params = Mapping[str, Primitive | Sequence[Primitive]]

logger = get_logger("example_service.outbound")


class Options(TypedDict, total=False):
    params: Params
    headers: Mapping[str, str]
    json: Any
    content: bytes | str
    idempotent: bool


class ServiceClient:
    def __init__(
        self,
        name: str,
        url: str,
        http: httpx.AsyncClient,
        *,
        timeout: httpx.Timeout,
        attempt_timeout: float,
        breaker: CircuitBreaker,
        policy: RetryPolicy,
        health_path: str | None = None,
        metrics: OutboundMetrics | None = None,
    ) -> None:
        self.name = name
        self.metrics = metrics
        if metrics is not None:
            metrics.declare(name)
        self.url = url
        self.timeout = timeout
        self.attempt_timeout = attempt_timeout
        self.breaker = breaker
        self.policy = policy
        self.health_path = health_path
        self._http = http

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        content: bytes | str | None = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """`method path` on the service; `path` always stays under its base URL.

        `idempotent`: whether the call may be sent again after a failure; by default for GET,
        HEAD, OPTIONS, PUT and DELETE, and for any request that carries an Idempotency-Key.
        """
        request = self._build(
            method, path, params=params, headers=headers, json=json, content=content
        )
        if idempotent is None:
            idempotent = (
                request.method in IDEMPOTENT_METHODS or "idempotency-key" in request.headers
            )
        attempts = 0

        async def attempt() -> httpx.Response:
            nonlocal attempts
            attempts += 1
            # httpx's read timeout is per read: this bounds an answer that trickles in.
            async with asyncio.timeout(self.attempt_timeout):
                response = await self._http.send(request)
            if response.status_code >= 500:
                raise UpstreamStatusError(response)
            return response

        started = time.monotonic()
        try:
            response = await call_with_retry(
                self.policy, self.breaker, attempt, retryable=retryable, idempotent=idempotent
            )
        except Exception as exc:
            if failed_for_good(exc):
                # The breaker counts only what may be retried; this failure counts too.
                self.breaker.record_failure()
            problem = as_problem(exc, self.breaker)
            if problem is None:
                raise
            self._failed(request, exc, problem, attempts, started)
            self._observe("error", started, attempts)
            raise problem from exc
        if response.status_code == 429:
            problem = throttled(response)
            self._failed(request, UpstreamStatusError(response), problem, attempts, started)
            self._observe("throttled", started, attempts)
            raise problem
        self._observe("ok", started, attempts)
        return response

    def _observe(self, outcome: str, started: float, attempts: int) -> None:
        if self.metrics is not None:
            self.metrics.observe(self.name, outcome, time.monotonic() - started, attempts)

    async def get(self, path: str, **options: Unpack[Options]) -> httpx.Response:
        return await self.request("GET", path, **options)

    async def post(self, path: str, **options: Unpack[Options]) -> httpx.Response:
        return await self.request("POST", path, **options)

    async def put(self, path: str, **options: Unpack[Options]) -> httpx.Response:
        return await self.request("PUT", path, **options)

    async def patch(self, path: str, **options: Unpack[Options]) -> httpx.Response:
        return await self.request("PATCH", path, **options)

    async def delete(self, path: str, **options: Unpack[Options]) -> httpx.Response:
        return await self.request("DELETE", path, **options)

    async def ping(self) -> None:
        """Readiness: GET the health path, past breaker and retries (the service's own truth)."""
        response = await self._http.get(self.url + (self.health_path or "/"), timeout=self.timeout)
        if not response.is_success:
            raise UpstreamStatusError(response)

    def _build(
        self,
        method: str,
        path: str,
        *,
        params: Params | None,
        headers: Mapping[str, str] | None,
        json: Any,
        content: bytes | str | None,
    ) -> httpx.Request:
        # Concatenated, never joined: a path from user input cannot name another host.
        if not path.startswith("/"):
            path = "/" + path
        request = self._http.build_request(
            method,
            self.url + path,
            params=params,
            headers=headers,
            json=json,
            content=content,
            timeout=self.timeout,
        )
        request_id = current_request_id()
        if request_id is not None and "x-request-id" not in request.headers:
            request.headers["X-Request-ID"] = request_id
        return request

    def _failed(
        self,
        request: httpx.Request,
        exc: Exception,
        problem: AppError,
        attempts: int,
        started: float,
    ) -> None:
        # The one line that names the service and what it did (the problem body does not).
        logger.warning(
            "outbound.failed",
            service=self.name,
            method=request.method,
            path=request.url.path,
            error=str(exc) if isinstance(exc, UpstreamStatusError) else type(exc).__name__,
            attempts=attempts,
            status=problem.status,
            elapsed_ms=round((time.monotonic() - started) * 1000, 1),
        )
