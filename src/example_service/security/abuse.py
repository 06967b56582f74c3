"""The abuse layer: deny list, bans and the per-client concurrency limit, before any routing.

Installed when SECURITY_ENABLE_DDOS_PROTECTION, SECURITY_ENABLE_ALERTING, SECURITY_DENIED_ADDRESSES
or SECURITY_MAX_CONCURRENT_PER_CLIENT is set, just inside CORS (so a browser app can read the
refusal) and outside the input guard, the rate limiter and routing: a refused client costs no
body read, no route match, no dependency and no database work. Per request, on the default
path: the client address, one set lookup (deny list), one dict lookup (bans) and, while
strikes or alerts are counted, the status of the response, read by a send wrapper. A 429 or a
401 answered below this layer (the rate limiter, per-route and login limits, authentication)
is a strike against the client; enough of them within a window ban it (see bans/).

The client address is the one the proxy-headers layer settled on; bans, strikes, alerts and
the concurrency limit count an IPv6 client by its /64 (see `ClientKeys`). The trusted proxies
themselves collect no strikes: a request that reached us from one without X-Forwarded-For
carries the proxy's address, and banning it would ban everyone behind it.
"""

from __future__ import annotations

from collections import Counter

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from example_service.errors.boundary import send_problem
from example_service.errors.exceptions import AppError
from example_service.errors.problem import ProblemRenderer
from example_service.security.addresses import AddressSet, ClientKeys
from example_service.security.alerts import SecurityAlerts
from example_service.security.bans import Bans, Kind
from example_service.security.errors import (
    AddressDeniedError,
    ClientBannedError,
    TooManyConcurrentError,
)

_STRIKES: dict[int, Kind] = {429: "rate_limit", 401: "auth_failure"}


class Watch:
    """What a refusal answered to a client feeds: its strikes, the alert counts."""

    def __init__(
        self,
        bans: Bans | None,
        alerts: SecurityAlerts | None,
        exempt: AddressSet,
        keys: ClientKeys,
    ) -> None:
        self.bans = bans
        self.alerts = alerts
        self.exempt = exempt
        self.keys = keys

    async def refused(self, host: str, kind: Kind) -> None:
        client = self.keys.key(host)
        if self.alerts is not None:
            await self.alerts.record(kind, client)
        if self.bans is not None and client and not self.exempt.contains(host):
            await self.bans.strike(client, kind)


class AbuseMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        renderer: ProblemRenderer,
        bans: Bans | None,
        denied: AddressSet | None,
        max_concurrent: int,
        watch: Watch | None,
        keys: ClientKeys,
    ) -> None:
        self.app = app
        self.client_key = keys.key
        self.renderer = renderer
        self.bans = bans
        self.denied = denied
        self.max_concurrent = max_concurrent
        self.in_flight: Counter[str] = Counter()
        self.watch = watch

    def refusal(self, host: str) -> AppError | None:
        """Why `host` is refused (the deny list, a ban in force), or None."""
        if self.denied is not None and self.denied.contains(host):
            return AddressDeniedError()
        if self.bans is not None:
            retry_after = self.bans.retry_after(self.client_key(host))
            if retry_after is not None:
                return ClientBannedError(retry_after)
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        client = scope.get("client")
        host = client[0] if client else ""
        if kind != "http":
            if kind == "websocket" and self.refusal(host) is not None:
                # Before the handshake is accepted: the server answers it with a 403.
                await send({"type": "websocket.close", "code": 1008, "reason": "refused"})
                return
            await self.app(scope, receive, send)
            return
        denied = self.denied
        bans = self.bans
        key = self.client_key(host)
        # Every request crosses this: two cached answers and one dict lookup while the client
        # is neither denied nor banned.
        if (denied is not None and denied.contains(host)) or (
            bans is not None and key in bans.table
        ):
            refusal = self.refusal(host)
            if refusal is not None:
                await send_problem(self.renderer, refusal, scope, receive, send)
                return
        if self.watch is not None:
            send = self._watching(host, send)
        if not self.max_concurrent:
            await self.app(scope, receive, send)
            return
        in_flight = self.in_flight
        if in_flight[key] >= self.max_concurrent:
            if self.watch is not None:
                await self.watch.refused(host, "rate_limit")
            await send_problem(self.renderer, TooManyConcurrentError(), scope, receive, send)
            return
        in_flight[key] += 1
        try:
            await self.app(scope, receive, send)
        finally:
            in_flight[key] -= 1
            if not in_flight[key]:
                del in_flight[key]

    def _watching(self, host: str, send: Send) -> Send:
        """`send`, reading the response's status: a 429 or 401 is a strike against `host`."""
        watch = self.watch
        assert watch is not None  # noqa: S101 - only called with a watch

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                kind = _STRIKES.get(message["status"])
                if kind is not None:
                    # Counted before the client has its answer: its next request already
                    # meets the ban this refusal may have earned.
                    await watch.refused(host, kind)
            await send(message)

        return send_status
