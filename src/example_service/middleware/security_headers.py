"""Security headers: computed once from settings, appended by the edge to every response.

The edge renders the outermost 500s itself, so the headers are added in its one send wrapper
rather than by a layer of their own (a layer costs a frame per call and per `send`). This class
only precomputes the raw header lists; picking one per request is a dict lookup.

Policy (OWASP guidance for a JSON API): nothing may be framed, sniffed, cached or embedded, and
the browser features a JSON API never needs are denied. `X-XSS-Protection` is not sent: the
auditor it drove is gone from browsers and could be abused where it survived.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.types import Scope

from example_service.settings import SecuritySettings

Headers = list[tuple[bytes, bytes]]

CSP = b"content-security-policy"
PAGE_ISOLATION = (b"cross-origin-opener-policy", b"same-origin")

# Headers that reveal the server stack; removed from every response.
STRIPPED = frozenset({b"server", b"x-powered-by"})


class SecurityHeaders:
    """Raw header lists per policy; `headers_for` picks the one for a request."""

    def __init__(
        self, security: SecuritySettings, page_policies: Mapping[str, str] | None = None
    ) -> None:
        """`page_policies` maps exact paths (the docs pages) to their own CSP."""
        common: Headers = [
            (b"cache-control", b"no-store"),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (b"cross-origin-resource-policy", b"same-origin"),
        ]
        if security.permissions_policy:
            common.append((b"permissions-policy", security.permissions_policy.encode("latin-1")))
        hsts: Headers = []
        if security.enable_hsts:
            value = f"max-age={security.hsts_max_age_seconds}; includeSubDomains"
            hsts = [(b"strict-transport-security", value.encode())]

        def lists(csp: str | None, *page: tuple[bytes, bytes]) -> tuple[Headers, Headers]:
            plain = [*common, (CSP, csp.encode("latin-1"))] if csp else list(common)
            plain.extend(page)
            return plain, [*plain, *hsts]

        self._api = lists(security.csp_policy if security.enable_csp else None)
        # Docs pages always get their policy: without one they would run under no CSP at all.
        # They are documents a browser opens, so they also get their own browsing context group:
        # a page that opened them (or that they open) gets no handle on their window.
        self._pages = {
            path: lists(csp, PAGE_ISOLATION) for path, csp in (page_policies or {}).items()
        }
        # Every name a response may set that makes the edge merge instead of append.
        self.names = (
            frozenset(name for name, _ in self._api[1]) | {CSP, PAGE_ISOLATION[0]} | STRIPPED
        )

    def headers_for(self, scope: Scope) -> Headers:
        """The headers for this request: shared lists, never to be mutated."""
        pair = self._pages.get(scope["path"], self._api) if self._pages else self._api
        return pair[1] if scope["scheme"] == "https" else pair[0]


def merge(own: Headers, extra: Headers) -> Headers:
    """The response's headers plus `extra`, where the response's own value wins.

    Only called when the response set one of our names or a stripped one: the common path in
    the edge is a plain concatenation.
    """
    kept = [(name, value) for name, value in own if name.lower() not in STRIPPED]
    present = {name.lower() for name, _ in kept}
    return [*kept, *((name, value) for name, value in extra if name not in present)]


def needs_merge(own: Headers, names: frozenset[bytes]) -> bool:
    """Whether the response carries a header we add or strip.

    Names are compared as sent: Starlette and FastAPI always send them lower case.
    """
    for name, _ in own:  # noqa: SIM110 - a loop costs no generator frame per response
        if name in names:
            return True
    return False
