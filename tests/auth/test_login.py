"""Login (form and JSON, two paths), refresh rotation and reuse detection, logout."""

from __future__ import annotations

import bcrypt
from sqlalchemy import select, update

from example_service.app import create_app
from example_service.auth.models import AuthSession
from example_service.users.models import User
from tests.conftest import SettingsFactory
from tests.identity import PASSWORD, Api


async def test_login_form_and_json_on_both_paths(api: Api) -> None:
    await api.register("alice@example.com")
    form = await api.client.post(
        "/api/v1/auth/login",
        data={"username": "ALICE@example.com", "password": PASSWORD, "grant_type": "password"},
    )
    assert form.status_code == 200
    body = form.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 15 * 60
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    legacy = await api.client.post(
        "/auth/login", json={"email": "alice@example.com", "password": PASSWORD}
    )
    assert legacy.status_code == 200
    me = await api.client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {legacy.json()['access_token']}"}
    )
    assert me.status_code == 200


def test_the_path_outside_the_prefix_is_documented_as_deprecated(
    make_settings: SettingsFactory,
) -> None:
    paths = create_app(make_settings()).openapi()["paths"]
    assert paths["/auth/login"]["post"]["deprecated"] is True
    assert "deprecated" not in paths["/api/v1/auth/login"]["post"]
    assert (
        paths["/auth/login"]["post"]["operationId"]
        != paths["/api/v1/auth/login"]["post"]["operationId"]
    )


async def test_login_rejects_bad_bodies(api: Api) -> None:
    text = await api.client.post(
        "/api/v1/auth/login", content=b"x", headers={"content-type": "text/plain"}
    )
    assert text.status_code == 415
    broken = await api.client.post(
        "/api/v1/auth/login", content=b"{", headers={"content-type": "application/json"}
    )
    assert broken.status_code == 400
    missing = await api.client.post("/api/v1/auth/login", json={"email": "a@example.com"})
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "password"


async def test_unknown_email_and_wrong_password_look_the_same(api: Api) -> None:
    await api.register("alice@example.com")
    wrong = await api.login("alice@example.com", "wrong password")
    unknown = await api.login("nobody@example.com", "wrong password")
    assert wrong.status_code == unknown.status_code == 401
    strip = ("request_id",)
    assert {k: v for k, v in wrong.json().items() if k not in strip} == {
        k: v for k, v in unknown.json().items() if k not in strip
    }
    # Per-request values; the rate-limit counters move on with every request whatever its outcome.
    volatile = {
        "x-request-id",
        "x-process-time",
        "content-length",
        "x-ratelimit-remaining",
        "ratelimit",
    }
    assert {k: v for k, v in wrong.headers.items() if k not in volatile} == {
        k: v for k, v in unknown.headers.items() if k not in volatile
    }
    assert wrong.headers["www-authenticate"] == "Bearer"


async def test_legacy_bcrypt_hash_verifies_and_is_rehashed(api: Api) -> None:
    await api.register("old@example.com")
    legacy = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    async with api.app.state.session_factory() as session:
        await session.execute(
            update(User).where(User.email == "old@example.com").values(hashed_password=legacy)
        )
        await session.commit()
    assert (await api.login("old@example.com")).status_code == 200
    async with api.app.state.session_factory() as session:
        user = (
            await session.execute(select(User).where(User.email == "old@example.com"))
        ).scalar_one()
    assert user.hashed_password.startswith("$argon2id$")
    assert (await api.login("old@example.com")).status_code == 200


async def test_refresh_rotates_and_reuse_revokes_the_session(api: Api) -> None:
    alice = await api.account("alice@example.com")
    first = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": alice.refresh})
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refresh_token"] != alice.refresh
    new_auth = {"Authorization": f"Bearer {rotated['access_token']}"}
    assert (await api.client.get("/api/v1/users/me", headers=new_auth)).status_code == 200

    replay = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": alice.refresh})
    assert replay.status_code == 401
    assert replay.headers["www-authenticate"] == "Bearer"
    # The whole session is gone: the newest refresh token and the access tokens with it.
    latest = await api.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]}
    )
    assert latest.status_code == 401
    assert (await api.client.get("/api/v1/users/me", headers=new_auth)).status_code == 401
    async with api.app.state.session_factory() as session:
        rows = (await session.execute(select(AuthSession))).scalars().all()
    assert len(rows) == 1 and rows[0].revoked_at is not None
    # Another login is a new session and works.
    assert (await api.login(alice.email)).status_code == 200


async def test_access_token_is_not_a_refresh_token(api: Api) -> None:
    alice = await api.account("alice@example.com")
    response = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": alice.access})
    assert response.status_code == 401


async def test_logout_revokes_the_session(api: Api) -> None:
    alice = await api.account("alice@example.com")
    other = (await api.login(alice.email)).json()
    assert (await api.client.post("/api/v1/auth/logout", headers=alice.auth)).status_code == 204
    assert (await api.client.get("/api/v1/users/me", headers=alice.auth)).status_code == 401
    refresh = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": alice.refresh})
    assert refresh.status_code == 401
    # Only that session: another login of the same user still works.
    other_auth = {"Authorization": f"Bearer {other['access_token']}"}
    assert (await api.client.get("/api/v1/users/me", headers=other_auth)).status_code == 200
