"""JWT access and refresh tokens (PyJWT).

Decoding always names the algorithm allow-list, issuer and audience, and requires the claims
below: a token without `exp` is refused rather than trusted forever, and `typ` keeps a refresh
token from being used as an access token. Everything is decided once at construction; a decode
is one HMAC and one JSON parse.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import jwt

from example_service.db.base import utcnow
from example_service.errors.exceptions import UnauthorizedError
from example_service.settings import SecuritySettings

TokenType = Literal["access", "refresh"]
REQUIRED_CLAIMS = ["exp", "iat", "sub", "iss", "aud", "typ"]
# PyJWT spends ~45 us per decode (mostly a per-character base64 check); a client sends the same
# access token for its whole lifetime, so verified access tokens are remembered until they
# expire. Safe: a signed token's claims never change; expiry is re-checked on every hit, and
# revocation (version, session) is checked on every request anyway, against the database or
# the principal cache that every revocation reaches (auth/cache.py).
ACCESS_CACHE_SIZE = 4096


class InvalidTokenError(UnauthorizedError):
    default_detail = "The token is invalid or expired."


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: uuid.UUID
    typ: TokenType
    jti: str
    version: int
    session_id: uuid.UUID
    expires_at: float


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    jti: str
    expires_at: datetime


class Tokens:
    def __init__(self, settings: SecuritySettings, clock: Callable[[], datetime] = utcnow) -> None:
        self._key = settings.jwt_secret.get_secret_value()
        self._algorithm = settings.jwt_algorithm
        self._algorithms = [settings.jwt_algorithm]
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self._lifetimes: dict[TokenType, timedelta] = {
            "access": timedelta(minutes=settings.access_token_expire_minutes),
            "refresh": timedelta(days=settings.refresh_token_expire_days),
        }
        self._clock = clock
        self._jwt = jwt.PyJWT(options={"require": REQUIRED_CLAIMS})
        self._verified: dict[str, TokenClaims] = {}

    @property
    def access_lifetime(self) -> timedelta:
        return self._lifetimes["access"]

    def issue(
        self, typ: TokenType, user_id: uuid.UUID, version: int, session_id: uuid.UUID
    ) -> IssuedToken:
        now = self._clock()
        expires_at = now + self._lifetimes[typ]
        jti = secrets.token_urlsafe(16)
        payload = {
            "sub": str(user_id),
            "iss": self._issuer,
            "aud": self._audience,
            "iat": int(now.timestamp()),
            "exp": int(expires_at.timestamp()),
            "typ": typ,
            "jti": jti,
            "ver": version,
            "sid": str(session_id),
        }
        return IssuedToken(jwt.encode(payload, self._key, self._algorithm), jti, expires_at)

    def decode(self, token: str, expected: TokenType) -> TokenClaims:
        """The claims of a valid token of type `expected`; `InvalidTokenError` otherwise."""
        if expected == "access":
            cached = self._verified.get(token)
            if cached is not None:
                if cached.expires_at > self._clock().timestamp():
                    return cached
                del self._verified[token]
        claims = self._verify(token, expected)
        if expected == "access":
            if len(self._verified) >= ACCESS_CACHE_SIZE:
                del self._verified[next(iter(self._verified))]  # oldest first
            self._verified[token] = claims
        return claims

    def _verify(self, token: str, expected: TokenType) -> TokenClaims:
        try:
            claims: dict[str, Any] = self._jwt.decode(
                token,
                self._key,
                algorithms=self._algorithms,
                issuer=self._issuer,
                audience=self._audience,
            )
        except jwt.PyJWTError as exc:
            raise InvalidTokenError from exc
        if claims["typ"] != expected:
            raise InvalidTokenError
        try:
            result = TokenClaims(
                user_id=uuid.UUID(claims["sub"]),
                typ=expected,
                jti=str(claims["jti"]),
                version=int(claims["ver"]),
                session_id=uuid.UUID(claims["sid"]),
                expires_at=float(claims["exp"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidTokenError from exc
        # PyJWT checked `exp` against the wall clock; the injected clock has the last word.
        if result.expires_at <= self._clock().timestamp():
            raise InvalidTokenError
        return result
