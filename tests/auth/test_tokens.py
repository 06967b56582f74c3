"""Every bad-token case is a 401 problem with `WWW-Authenticate: Bearer`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from example_service.auth.tokens import InvalidTokenError, Tokens
from tests.identity import JWT_SECRET, Api, security_settings

NOW = datetime(2020, 1, 1, tzinfo=UTC)


def claims(user_id: str, access: str, **changes: Any) -> dict[str, Any]:
    base = jwt.decode(access, options={"verify_signature": False})
    assert base["sub"] == user_id
    base.update(changes)
    return {key: value for key, value in base.items() if value is not None}


def forged(payload: dict[str, Any], key: str = JWT_SECRET, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, key, algorithm)


def alg_none(payload: dict[str, Any]) -> str:
    return jwt.encode(payload, None, algorithm="none")


async def test_bad_tokens_are_401_with_bearer_challenge(api: Api) -> None:
    alice = await api.account("alice@example.com")
    good = claims(alice.id, alice.access)
    expired = Tokens(security_settings(), clock=lambda: NOW).issue(
        "access", uuid.UUID(alice.id), 0, uuid.UUID(good["sid"])
    )
    cases = {
        "alg none": alg_none(good),
        "wrong key": forged(good, key="another-secret-of-sufficient-length-0123456789"),
        "wrong issuer": forged({**good, "iss": "someone-else"}),
        "wrong audience": forged({**good, "aud": "someone-else"}),
        "missing exp": forged(claims(alice.id, alice.access, exp=None)),
        "missing typ": forged(claims(alice.id, alice.access, typ=None)),
        "expired": expired.token,
        "refresh as access": alice.refresh,
        "unknown user": forged({**good, "sub": str(uuid.uuid4())}),
        "unknown session": forged({**good, "sid": str(uuid.uuid4())}),
        "bad sub": forged({**good, "sub": "not-a-uuid"}),
        "garbage": "not.a.token",
    }
    control = await api.client.get("/api/v1/users/me", headers=alice.auth)
    assert control.status_code == 200
    for name, token in cases.items():
        response = await api.client.get(
            "/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401, name
        assert response.headers["www-authenticate"] == "Bearer", name
        assert response.headers["content-type"] == "application/problem+json", name
        assert response.json()["code"] == "unauthorized", name


async def test_missing_or_non_bearer_credentials(api: Api) -> None:
    for headers in ({}, {"Authorization": "Basic YWxpY2U6cHc="}, {"Authorization": "Bearer"}):
        response = await api.client.get("/api/v1/users/me", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"


def test_decode_checks_type_and_claims() -> None:
    tokens = Tokens(security_settings())
    user, sid = uuid.uuid4(), uuid.uuid4()
    refresh = tokens.issue("refresh", user, 3, sid)
    claims_ = tokens.decode(refresh.token, "refresh")
    assert (claims_.user_id, claims_.version, claims_.session_id) == (user, 3, sid)
    assert claims_.jti == refresh.jti
    with pytest.raises(InvalidTokenError):
        tokens.decode(refresh.token, "access")
    other = Tokens(security_settings(jwt_algorithm="HS512"))
    with pytest.raises(InvalidTokenError):  # HS256 is not on HS512's allow-list
        other.decode(refresh.token, "refresh")
    expiring = Tokens(security_settings(), clock=lambda: datetime.now(UTC) - timedelta(days=8))
    with pytest.raises(InvalidTokenError):
        tokens.decode(expiring.issue("refresh", user, 0, sid).token, "refresh")


def test_verified_access_tokens_are_remembered_until_they_expire() -> None:
    now = [datetime.now(UTC)]
    tokens = Tokens(security_settings(), clock=lambda: now[0])
    user, sid = uuid.uuid4(), uuid.uuid4()
    access = tokens.issue("access", user, 0, sid).token
    first = tokens.decode(access, "access")
    assert tokens.decode(access, "access") is first  # the cached object: not decoded again
    now[0] += timedelta(minutes=16)  # past the 15 minute lifetime
    with pytest.raises(InvalidTokenError):
        tokens.decode(access, "access")
    # A refresh token is never served from the cache, even once seen as an access token.
    refresh = tokens.issue("refresh", user, 0, sid).token
    with pytest.raises(InvalidTokenError):
        tokens.decode(refresh, "access")
    with pytest.raises(InvalidTokenError):
        tokens.decode(refresh, "access")


def test_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("example_service.auth.tokens.ACCESS_CACHE_SIZE", 2)
    tokens = Tokens(security_settings())
    issued = [tokens.issue("access", uuid.uuid4(), 0, uuid.uuid4()).token for _ in range(3)]
    for token in issued:
        tokens.decode(token, "access")
    assert list(tokens._verified) == issued[1:]
