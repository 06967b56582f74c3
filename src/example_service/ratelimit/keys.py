"""Who a request counts against: `ip`, `user_or_ip` (verified JWT `sub`) or `api_key`.

The client address is the ASGI `client`: the proxy-headers middleware rewrites it for trusted
proxies, so X-Forwarded-For is never read here (a client could name its own bucket).
A JWT `sub` counts only once the token is verified (signature, exp, iss, aud): an unverified
claim would let a client pick its bucket too. Verified tokens are remembered until they expire
so the common case costs a dict lookup, not an HMAC.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import jwt
from starlette.types import Scope

from example_service.ratelimit.base import Clock, wall_clock
from example_service.settings import SecuritySettings

KeyFunc = Callable[[Scope], str]

_AUTHORIZATION = b"authorization"
_API_KEY = b"x-api-key"


def header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


def ip_key(scope: Scope) -> str:
    return "ip:" + client_address(scope)


def api_key_key(scope: Scope) -> str:
    value = header(scope, _API_KEY)
    if not value:
        return ip_key(scope)
    # Only a digest reaches the store: keys in Redis or a memory dump reveal nothing.
    return "key:" + hashlib.sha256(value).hexdigest()[:32]


class UserOrIpKey:
    def __init__(
        self, security: SecuritySettings, clock: Clock = wall_clock, max_cached: int = 10_000
    ) -> None:
        self.secret = security.jwt_secret.get_secret_value()
        self.algorithms = [security.jwt_algorithm]
        self.issuer = security.jwt_issuer
        self.audience = security.jwt_audience
        self.clock = clock
        self.max_cached = max_cached
        self._verified: dict[bytes, tuple[str, float]] = {}

    def subject(self, token: bytes) -> str | None:
        cached = self._verified.get(token)
        if cached is not None:
            if cached[1] > self.clock():
                return cached[0]
            del self._verified[token]
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=self.algorithms,
                issuer=self.issuer,
                audience=self.audience,
                options={"require": ["exp", "sub"]},
            )
        except jwt.PyJWTError:
            return None
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub:
            return None
        if len(self._verified) >= self.max_cached:
            self._verified.clear()
        self._verified[token] = (sub, float(claims["exp"]))
        return sub

    def __call__(self, scope: Scope) -> str:
        value = header(scope, _AUTHORIZATION)
        if value and value[:7].lower() == b"bearer ":
            sub = self.subject(value[7:].strip())
            if sub is not None:
                return "user:" + sub
        return ip_key(scope)


def key_functions(security: SecuritySettings, clock: Clock = wall_clock) -> dict[str, KeyFunc]:
    return {"ip": ip_key, "user_or_ip": UserOrIpKey(security, clock), "api_key": api_key_key}
