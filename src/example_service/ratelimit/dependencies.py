"""Per-route limits as FastAPI dependencies.

    @router.post("/reports", dependencies=[Depends(rate_limit(10, 60))])

Each route counts separately (the route's path is part of the key). The dependency leaves the
rate-limit headers in the scope for the edge to add to the response (they replace the global
policy's for that route, and reach a `Response` the route builds itself) and raises
`RateLimitError` when the limit is reached.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request

from example_service.middleware.scope import RESPONSE_HEADERS
from example_service.ratelimit.base import Algorithm, Policy
from example_service.ratelimit.limiter import RateLimiter, rejection

Dependency = Callable[[Request], Awaitable[None]]


def _limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.limiter
    return limiter


async def _enforce(request: Request, policy: Policy, strategy: str | None, scoped: bool) -> None:
    limiter = _limiter(request)
    scope = request.scope
    key_func = limiter.keys[strategy] if strategy else limiter.key_for
    key = key_func(scope)
    if scoped:
        route = scope.get("route")
        key = f"{getattr(route, 'path', scope['path'])}|{key}"
    decision = await limiter.hit(key, policy)
    headers = limiter.headers(policy, decision)
    if not decision.allowed:
        raise rejection(decision, headers)
    scope[RESPONSE_HEADERS] = headers


def rate_limit(
    limit: int,
    window: int,
    *,
    key: str = "ip",
    algorithm: Algorithm = "fixed_window",
    burst: int = 0,
    name: str | None = None,
) -> Dependency:
    """`limit` requests per `window` seconds per client (`key`: ip | user_or_ip | api_key)."""
    if key not in ("ip", "user_or_ip", "api_key"):
        raise ValueError(f"unknown key strategy {key!r}")
    policy = Policy(
        name=name or f"route-{key}-{limit}-{window}",
        limit=limit,
        window=window,
        algorithm=algorithm,
        burst=burst,
    )

    async def dependency(request: Request) -> None:
        await _enforce(request, policy, key, scoped=True)

    return dependency


def per_user_rate_limit(limit: int, window: int, **options: object) -> Dependency:
    """Per authenticated user (verified JWT `sub`), per address for anonymous requests."""
    return rate_limit(limit, window, key="user_or_ip", **options)  # type: ignore[arg-type]


def per_api_key_rate_limit(limit: int, window: int, **options: object) -> Dependency:
    """Per API key (a digest of X-API-Key), per address for requests without one."""
    return rate_limit(limit, window, key="api_key", **options)  # type: ignore[arg-type]


def named_rate_limit(name: str, key: str | None = None) -> Dependency:
    """A policy registered on the limiter by name, keyed by the configured strategy."""

    async def dependency(request: Request) -> None:
        policy = _limiter(request).policies.get(name)
        if policy is None:
            raise LookupError(f"no rate-limit policy named {name!r}")
        await _enforce(request, policy, key, scoped=False)

    return dependency
