"""Client address and scheme from X-Forwarded-For/-Proto, believed only from trusted proxies.

A header from any other peer changes nothing: the rate limiter keys on `scope["client"]`, and a
client that could name its own address could pick its own rate-limit bucket. With a trusted peer,
the client is the rightmost address in X-Forwarded-For that is not itself a trusted proxy: each
proxy appends the address it saw, so everything left of that is the client's own claim.

Installed only when SECURITY_TRUSTED_PROXIES is set, outside every other inner layer.
"""

from __future__ import annotations

from ipaddress import ip_address

from starlette.types import ASGIApp, Receive, Scope, Send

from example_service.security.addresses import AddressSet

_SCHEMES = {
    "http": {"http": "http", "https": "https"},
    "websocket": {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"},
}


# Membership of the trusted proxies' IPs and CIDRs: the deny list's address set.
TrustedProxies = AddressSet


def client_from_chain(chain: list[str], trusted: TrustedProxies) -> str | None:
    """The rightmost address that is not a trusted proxy (the leftmost if all are trusted).

    None when that entry is not an IP address: the direct peer then stays the client.
    """
    candidate = None
    for entry in reversed(chain):
        candidate = entry
        if not trusted.contains(entry):
            break
    if candidate is None:
        return None
    try:
        return str(ip_address(candidate))
    except ValueError:
        return None


class ProxyHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, trusted_proxies: list[str]) -> None:
        self.app = app
        self.trusted = TrustedProxies(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        schemes = _SCHEMES.get(scope["type"])
        client = scope.get("client")
        if schemes is not None and client and self.trusted.contains(client[0]):
            forwarded_for: list[str] = []
            proto = None
            for name, value in scope["headers"]:
                if name == b"x-forwarded-for":
                    forwarded_for.extend(
                        part.strip() for part in value.decode("latin-1").split(",")
                    )
                elif name == b"x-forwarded-proto":
                    proto = value.decode("latin-1").rsplit(",", 1)[-1].strip().lower()
            if forwarded_for:
                host = client_from_chain([a for a in forwarded_for if a], self.trusted)
                if host is not None:
                    scope["client"] = (host, 0)
            if proto in schemes:
                scope["scheme"] = schemes[proto]
        await self.app(scope, receive, send)
