"""API keys: shown once, stored as a hash, authenticate as their user, revoked at once."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from example_service.api_keys.models import ApiKey
from tests.conftest import LogCapture
from tests.identity import Api


async def test_key_lifecycle(api: Api, logs: LogCapture) -> None:
    alice = await api.account("alice@example.com")
    bob = await api.account("bob@example.com")
    created = await api.client.post("/api/v1/api-keys", headers=alice.auth, json={"name": "ci"})
    assert created.status_code == 201
    body = created.json()
    key = body["key"]
    assert key.startswith("esk_") and len(key) > 40 and body["prefix"] == key[:10]

    async with api.app.state.session_factory() as session:
        row = (await session.execute(select(ApiKey))).scalar_one()
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str(vars(row))

    me = await api.client.get("/api/v1/users/me", headers={"X-API-Key": key})
    assert me.status_code == 200 and me.json()["id"] == alice.id
    listing = await api.client.get("/api/v1/api-keys", headers={"X-API-Key": key})
    assert listing.status_code == 200
    assert [item["name"] for item in listing.json()] == ["ci"]
    assert "key" not in listing.json()[0] and "key_hash" not in listing.json()[0]
    assert "key_hash" not in body

    # Bob neither sees nor revokes Alice's key.
    assert (await api.client.get("/api/v1/api-keys", headers=bob.auth)).json() == []
    foreign = await api.client.delete(f"/api/v1/api-keys/{body['id']}", headers=bob.auth)
    assert foreign.status_code == 404

    revoked = await api.client.delete(f"/api/v1/api-keys/{body['id']}", headers=alice.auth)
    assert revoked.status_code == 204
    after = await api.client.get("/api/v1/users/me", headers={"X-API-Key": key})
    assert after.status_code == 401 and after.headers["www-authenticate"] == "Bearer"
    listed = (await api.client.get("/api/v1/api-keys", headers=alice.auth)).json()
    assert listed[0]["revoked_at"] is not None

    logout = await api.client.post("/api/v1/auth/logout", headers={"X-API-Key": "esk_nope"})
    assert logout.status_code == 401
    assert all(key not in str(line) for line in logs.lines())


async def test_api_key_has_no_session_to_log_out(api: Api) -> None:
    alice = await api.account("alice@example.com")
    key = (
        await api.client.post("/api/v1/api-keys", headers=alice.auth, json={"name": "x"})
    ).json()["key"]
    response = await api.client.post("/api/v1/auth/logout", headers={"X-API-Key": key})
    assert response.status_code == 400


async def test_unknown_key_is_refused(api: Api) -> None:
    response = await api.client.get("/api/v1/users/me", headers={"X-API-Key": "esk_" + "a" * 43})
    assert response.status_code == 401
