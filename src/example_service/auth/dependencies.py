"""Who is calling: `CurrentPrincipal` / `CurrentUser`, `require_role`, `require_permission`.

A request authenticates with `Authorization: Bearer <access token>` or `X-API-Key: <key>`. The
token is decoded once; who it is comes from the principal cache when it holds a current entry
(auth/cache.py: no database session is even opened), else from one query, the user with the
token's session, in a read session of its own (db/session.py). FastAPI caches the result for
the rest of the request.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.security import APIKeyHeader, HTTPBearer

from example_service.auth import repository
from example_service.auth.cache import IdentityCache
from example_service.auth.metrics import AuthMetrics
from example_service.auth.roles import Permission, Role, has_permission
from example_service.auth.tokens import InvalidTokenError, Tokens
from example_service.db.session import read_session, uses_database
from example_service.errors.exceptions import ForbiddenError, UnauthorizedError
from example_service.users.schemas import UserRead

# auto_error=False: a missing credential is our 401 problem, not FastAPI's bare 403.
_bearer = HTTPBearer(auto_error=False, description="An access token from /auth/login.")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key.")
SCHEMES = (_bearer, _api_key)  # what `authenticate` accepts, for OpenAPI


@dataclass(slots=True, frozen=True)
class Principal:
    user: UserRead  # the public record: from the database, or from the cache (auth/cache.py)
    session_id: uuid.UUID | None  # None when authenticated by API key

    def can(self, permission: Permission) -> bool:
        return has_permission(self.user.role, permission)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@uses_database
async def authenticate(request: Request) -> Principal:
    metrics: AuthMetrics | None = request.app.state.auth_metrics
    if metrics is None:  # TELEMETRY_MODE other than prometheus: nothing counted
        return await _authenticate(request)
    try:
        principal = await _authenticate(request)
    except UnauthorizedError:
        headers = request.headers
        if "authorization" in headers:
            metrics.credential("bearer", "invalid")
        elif "x-api-key" in headers:
            metrics.credential("api_key", "invalid")
        else:
            metrics.credential("none", "missing")
        raise
    metrics.credential("bearer" if principal.session_id is not None else "api_key", "valid")
    return principal


async def _authenticate(request: Request) -> Principal:
    # The security schemes are called, not declared as dependencies: each dependency costs
    # FastAPI ~13 us a request to solve (measured), a tenth of a read the cache answers.
    # auth/openapi.py declares them in OpenAPI as FastAPI would have.
    bearer = await _bearer(request)
    api_key = await _api_key(request)
    state = request.app.state
    cache: IdentityCache | None = state.identity_cache
    if bearer is not None:
        tokens: Tokens = state.tokens
        claims = tokens.decode(bearer.credentials, "access")
        if cache is not None:
            lookup = await cache.token(claims.user_id, claims.session_id)
            hit = lookup.principal
            if hit is not None and hit.token_version == claims.version:
                return Principal(hit.user, claims.session_id)
        async with read_session(state) as session:
            found = await repository.user_for_token(session, claims.user_id, claims.session_id)
        if found is None:
            raise InvalidTokenError
        user, token_version, session_open = found
        # A password change, role change or deactivation bumps token_version; logout closes
        # the session: either way, tokens issued before are refused from now on.
        if not (session_open and user.is_active and token_version == claims.version):
            raise InvalidTokenError
        if cache is not None:
            await cache.remember(lookup, user, token_version)
        return Principal(user, claims.session_id)
    if api_key:
        digest = hash_api_key(api_key)
        if cache is not None:
            lookup = await cache.api_key(digest)
            if lookup.principal is not None:
                return Principal(lookup.principal.user, None)
        async with read_session(state) as session:
            found_key = await repository.user_for_key(session, digest)
        # The lookup is by an index on the hash; the constant-time comparison guards the
        # final equality all the same.
        if (
            found_key is None
            or not hmac.compare_digest(found_key[1], digest)
            or not found_key[0].is_active
        ):
            raise UnauthorizedError("The API key is invalid or revoked.", scheme="Bearer")
        if cache is not None:
            await cache.remember(lookup, found_key[0])
        return Principal(found_key[0], None)
    raise UnauthorizedError


def requires_authentication(dependant: Dependant) -> bool:
    """Whether a route (its `dependant`) authenticates its caller."""
    return any(
        sub.call is authenticate or requires_authentication(sub) for sub in dependant.dependencies
    )


async def current_user(principal: Annotated[Principal, Depends(authenticate)]) -> UserRead:
    return principal.user


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]
CurrentUser = Annotated[UserRead, Depends(current_user)]


def require_permission(
    permission: Permission,
) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    async def check(principal: CurrentPrincipal) -> Principal:
        if not principal.can(permission):
            raise ForbiddenError().denied_to(principal.user.id)
        return principal

    return check


def require_role(*roles: Role) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    allowed = frozenset(role.value for role in roles)

    async def check(principal: CurrentPrincipal) -> Principal:
        if principal.user.role not in allowed:
            raise ForbiddenError().denied_to(principal.user.id)
        return principal

    return check
