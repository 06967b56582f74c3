"""The global policy for the API prefix, as one pure-ASGI layer.

Per request on the default path: a prefix test, a key, one backend hit and five prebuilt-format
headers left in the scope for the edge to append to the response start (no send wrapper here).
Health probes, metrics and docs are exempt. A refusal is answered here by the error contract's
renderer (as a raised error it would be rendered by the edge, outside CORS, and a browser would
see a CORS failure instead of the 429). A route with its own limit (see `dependencies`)
replaces the headers in the scope with its own.
"""

from __future__ import annotations

from functools import lru_cache

from starlette.types import ASGIApp, Receive, Scope, Send

from example_service.errors.boundary import send_problem
from example_service.errors.problem import ProblemRenderer
from example_service.middleware.scope import RESPONSE_HEADERS
from example_service.ratelimit.limiter import RateLimiter, rejection

_EXEMPT_EXACT = ("/health", "/metrics", "/docs", "/redoc", "/openapi.json")


class RateLimitMiddleware:
    def __init__(
        self, app: ASGIApp, *, limiter: RateLimiter, api_prefix: str, renderer: ProblemRenderer
    ) -> None:
        self.app = app
        self.renderer = renderer
        self.limiter = limiter
        self.prefix = api_prefix
        self.exempt_exact = frozenset((*_EXEMPT_EXACT, f"{api_prefix}/health"))
        self.exempt_prefixes = (f"{api_prefix}/health/", "/docs/", "/redoc/")
        # Per path, whether the policy applies: one C-level cache lookup for the paths clients
        # repeat, bounded against clients that never do.
        self.applies = lru_cache(maxsize=4096)(self._applies)

    def _applies(self, path: str) -> bool:
        return (
            path.startswith(self.prefix)
            and path not in self.exempt_exact
            and not path.startswith(self.exempt_prefixes)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.applies(scope["path"]):
            await self.app(scope, receive, send)
            return
        limiter = self.limiter
        policy = limiter.default
        memory = limiter.memory
        if limiter.backend is memory:
            # The default path: decided synchronously, no coroutine to create and await.
            decision = memory.hit_now(limiter.key_for(scope), policy)
        else:
            decision = await limiter.backend.hit(limiter.key_for(scope), policy)
        headers = limiter.headers(policy, decision)
        if decision.allowed:
            scope[RESPONSE_HEADERS] = headers
            await self.app(scope, receive, send)
        else:
            await send_problem(self.renderer, rejection(decision, headers), scope, receive, send)
