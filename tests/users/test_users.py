"""The users API on SQLite and PostgreSQL: registration, visibility, updates, deletion."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from example_service.users.models import User
from tests.identity import PASSWORD, Api

FORBIDDEN_KEYS = {"hashed_password", "password", "token_version", "key_hash"}


def assert_no_secrets(body: object) -> None:
    text = str(body)
    assert "$argon2" not in text and "$2b$" not in text
    if isinstance(body, dict):
        assert not FORBIDDEN_KEYS & body.keys()


async def stored(api: Api, email: str) -> User:
    async with api.app.state.session_factory() as session:
        return (await session.execute(select(User).where(User.email == email))).scalar_one()


async def test_register_stores_argon2id_and_never_returns_it(api: Api) -> None:
    response = await api.register("Alice@Example.com")
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "alice@example.com"
    assert body["role"] == "user" and body["is_active"] is True
    assert set(body) == {
        "id",
        "email",
        "full_name",
        "role",
        "is_active",
        "created_at",
        "updated_at",
    }
    assert_no_secrets(body)
    user = await stored(api, "alice@example.com")
    assert user.hashed_password.startswith("$argon2id$")
    assert user.created_at.tzinfo is not None


async def test_email_taken_case_insensitively(api: Api) -> None:
    assert (await api.register("bob@example.com")).status_code == 201
    response = await api.register("BOB@example.com")
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "conflict"


async def test_registration_refuses_role_and_bad_passwords(api: Api) -> None:
    response = await api.register("mallory@example.com", role="admin")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "role"
    assert (await api.register("short@example.com", password="1234567")).status_code == 422
    assert (await api.register("long@example.com", password="x" * 129)).status_code == 422
    assert (await api.register("ok@example.com", password="x" * 128)).status_code == 201
    listing = await api.client.post("/api/v1/auth/login", json={"email": "mallory@example.com"})
    assert listing.status_code == 422


async def test_me_and_self_read(api: Api) -> None:
    alice = await api.account("alice@example.com")
    me = await api.client.get("/api/v1/users/me", headers=alice.auth)
    assert me.status_code == 200 and me.json()["id"] == alice.id
    one = await api.client.get(f"/api/v1/users/{alice.id}", headers=alice.auth)
    assert one.json() == me.json()
    assert_no_secrets(one.json())


async def test_user_a_cannot_read_change_or_delete_user_b(api: Api) -> None:
    alice = await api.account("alice@example.com")
    bob = await api.account("bob@example.com")
    missing = await api.client.get(f"/api/v1/users/{uuid.uuid4()}", headers=alice.auth)
    read = await api.client.get(f"/api/v1/users/{bob.id}", headers=alice.auth)
    assert read.status_code == 404
    # Same answer as for a user that does not exist: nothing learnt.
    assert read.json()["detail"] == missing.json()["detail"]
    patch = await api.client.patch(
        f"/api/v1/users/{bob.id}", headers=alice.auth, json={"full_name": "pwned"}
    )
    assert patch.status_code == 404
    delete = await api.client.delete(f"/api/v1/users/{bob.id}", headers=alice.auth)
    assert delete.status_code == 404
    still = await api.client.get(f"/api/v1/users/{bob.id}", headers=bob.auth)
    assert still.status_code == 200 and still.json()["full_name"] == "Test User"


async def test_mass_assignment_of_role_refused_row_unchanged(api: Api) -> None:
    alice = await api.account("alice@example.com")
    url = f"/api/v1/users/{alice.id}"
    for body in ({"role": "admin"}, {"is_active": False}, {"full_name": "x", "role": "admin"}):
        response = await api.client.patch(url, headers=alice.auth, json=body)
        assert response.status_code == 403, body
    unknown = await api.client.patch(url, headers=alice.auth, json={"hashed_password": "x"})
    assert unknown.status_code == 422
    user = await stored(api, alice.email)
    assert (user.role, user.is_active, user.full_name) == ("user", True, "Test User")
    # The token still works: nothing changed.
    assert (await api.client.get(url, headers=alice.auth)).status_code == 200


async def test_self_update_name_and_password(api: Api) -> None:
    alice = await api.account("alice@example.com")
    url = f"/api/v1/users/{alice.id}"
    renamed = await api.client.patch(url, headers=alice.auth, json={"full_name": "Alice A."})
    assert renamed.status_code == 200 and renamed.json()["full_name"] == "Alice A."
    no_current = await api.client.patch(url, headers=alice.auth, json={"password": "n" * 12})
    assert no_current.status_code == 403
    changed = await api.client.patch(
        url, headers=alice.auth, json={"password": "n" * 12, "current_password": PASSWORD}
    )
    assert changed.status_code == 200
    assert_no_secrets(changed.json())
    # Tokens issued before the password change are refused, refresh tokens included.
    assert (await api.client.get(url, headers=alice.auth)).status_code == 401
    old_refresh = await api.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": alice.refresh}
    )
    assert old_refresh.status_code == 401
    assert (await api.login(alice.email)).status_code == 401
    assert (await api.login(alice.email, "n" * 12)).status_code == 200


async def test_admin_reads_changes_lists_and_deletes(api: Api) -> None:
    admin = await api.account("root@example.com", admin=True)
    alice = await api.account("alice@example.com")
    url = f"/api/v1/users/{alice.id}"
    assert (await api.client.get(url, headers=admin.auth)).status_code == 200
    promoted = await api.client.patch(url, headers=admin.auth, json={"role": "admin"})
    assert promoted.status_code == 200 and promoted.json()["role"] == "admin"
    # Alice's old token predates her role change.
    assert (await api.client.get(url, headers=alice.auth)).status_code == 401
    await api.client.patch(url, headers=admin.auth, json={"is_active": False})
    assert (await api.login(alice.email)).status_code == 401

    page = await api.client.get("/api/v1/users?limit=1&offset=1", headers=admin.auth)
    assert page.status_code == 200
    body = page.json()
    assert body["total"] == 2 and body["limit"] == 1 and body["offset"] == 1
    assert [item["email"] for item in body["items"]] == ["alice@example.com"]
    assert_no_secrets(body["items"][0])
    too_many = await api.client.get("/api/v1/users?limit=1000", headers=admin.auth)
    assert too_many.status_code == 422

    assert (await api.client.delete(url, headers=admin.auth)).status_code == 204
    assert (await api.client.get(url, headers=admin.auth)).status_code == 404


async def test_listing_is_admin_only(api: Api) -> None:
    alice = await api.account("alice@example.com")
    response = await api.client.get("/api/v1/users", headers=alice.auth)
    assert response.status_code == 403
    assert (await api.client.get("/api/v1/users")).status_code == 401


async def test_self_delete(api: Api) -> None:
    alice = await api.account("alice@example.com")
    assert (
        await api.client.delete(f"/api/v1/users/{alice.id}", headers=alice.auth)
    ).status_code == 204
    assert (await api.client.get("/api/v1/users/me", headers=alice.auth)).status_code == 401


@pytest.mark.parametrize("password", ["password", "12345678", "Password1", "QWERTYUIOP"])
async def test_common_passwords_are_refused(api: Api, password: str) -> None:
    response = await api.register("alice@example.com", password)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error == {
        "field": "password",
        "message": "This password is too common; choose another.",
        "type": "password_too_common",
    }
    if password != "password":  # a word of the message itself
        assert password not in response.text  # never echoed


async def test_the_email_is_no_password(api: Api) -> None:
    for password in ("alice.smith@example.com", "Alice.Smith"):
        response = await api.register("alice.smith@example.com", password)
        assert response.json()["errors"][0]["type"] == "password_is_email"


async def test_a_password_change_follows_the_policy(api: Api) -> None:
    alice = await api.account("alice@example.com")
    change = {"password": "iloveyou", "current_password": PASSWORD}
    response = await api.client.patch(f"/api/v1/users/{alice.id}", json=change, headers=alice.auth)
    assert response.status_code == 422
    assert response.json()["errors"][0]["type"] == "password_too_common"
    assert (await api.login(alice.email)).status_code == 200  # unchanged


async def test_a_json_suffix_type_is_json(api: Api) -> None:
    body = b'{"email": "a@example.com", "password": "violet kettle orbit"}'
    response = await api.client.post(
        "/api/v1/users", content=body, headers={"content-type": "application/vnd.api+json"}
    )
    assert response.status_code == 201
