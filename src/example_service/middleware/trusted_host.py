"""Trusted hosts from APP_ALLOWED_HOSTS: a request for any other Host is a 400 problem.

A WebSocket handshake for another host is closed before it is accepted (policy violation,
1008), which the server answers with a 403.

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

    def allows_scope(self, scope: Scope) -> bool:
        for name, value in scope["headers"]:
            if name == b"host":
                return self.allows(host_without_port(value))
        return self.allows(b"")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http" and not self.allows_scope(scope):
            raise BadRequestError("The Host header names a host this service does not serve.")
        if kind == "websocket" and not self.allows_scope(scope):
            await send({"type": "websocket.close", "code": 1008, "reason": "host not served"})
            return
        await self.app(scope, receive, send)
