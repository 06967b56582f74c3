"""Trusted hosts from APP_ALLOWED_HOSTS: a request for any other Host is a 400 problem.

Own pure-ASGI layer rather than Starlette's TrustedHostMiddleware, whose plain-text 400 would
bypass the error contract. Not installed when the setting is `*` (the default).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from example_service.errors import BadRequestError


def host_without_port(value: bytes) -> bytes:
    host = value.strip().lower()
    if host.startswith(b"["):  # [v6]:port
        return host.split(b"]", 1)[0] + b"]"
    return host.rsplit(b":", 1)[0] if b":" in host else host


class TrustedHostMiddleware:
    def __init__(self, app: ASGIApp, *, allowed_hosts: list[str]) -> None:
        self.app = app
        self.exact: set[bytes] = set()
        self.suffixes: list[bytes] = []  # "*.example.com" -> ".example.com"
        for pattern in allowed_hosts:
            name = pattern.strip().lower().encode()
            if name.startswith(b"*."):
                self.suffixes.append(name[1:])
            else:
                self.exact.add(name)

    def allows(self, host: bytes) -> bool:
        return host in self.exact or any(host.endswith(s) for s in self.suffixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            host = b""
            for name, value in scope["headers"]:
                if name == b"host":
                    host = host_without_port(value)
                    break
            if not self.allows(host):
                raise BadRequestError("The Host header names a host this service does not serve.")
        await self.app(scope, receive, send)
