"""Hostile values that a database cannot store are a 422 naming the field, on every database.

PostgreSQL text cannot hold NUL and both databases stop at 64-bit integers: before these checks
each of these requests reached the driver and failed as a 500 (on PostgreSQL, or on both).
"""

from __future__ import annotations

from typing import Any

import bcrypt
import httpx
import pytest
from pydantic import Field
from sqlalchemy import select, update

from example_service.schemas import MAX_DB_INT, RequestModel, check_storable
from example_service.users.models import User
from tests.identity import PASSWORD, Api

NUL = "nul\x00inside"


def assert_field_error(response: httpx.Response, field: str, error_type: str) -> None:
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert {"field": field, "type": error_type} in [
        {"field": e["field"], "type": e["type"]} for e in errors
    ]
    assert "\x00" not in response.text  # the submitted value is never echoed


async def test_nul_in_text_fields(api: Api) -> None:
    assert_field_error(
        await api.register("a@example.com", full_name=NUL), "full_name", "string_nul"
    )
    assert_field_error(await api.login("a\x00@example.com"), "email", "string_nul")
    form = await api.client.post(
        "/api/v1/auth/login", data={"username": "a\x00@example.com", "password": PASSWORD}
    )
    assert_field_error(form, "username", "string_nul")  # named as the form sent it
    refresh = await api.client.post("/api/v1/auth/refresh", json={"refresh_token": NUL})
    assert_field_error(refresh, "refresh_token", "string_nul")

    alice = await api.account("alice@example.com")
    key = await api.client.post("/api/v1/api-keys", json={"name": NUL}, headers=alice.auth)
    assert_field_error(key, "name", "string_nul")
    patch = await api.client.patch(
        f"/api/v1/users/{alice.id}", json={"full_name": NUL}, headers=alice.auth
    )
    assert_field_error(patch, "full_name", "string_nul")
    # Nothing was stored and the service still serves.
    me = await api.client.get("/api/v1/users/me", headers=alice.auth)
    assert me.json()["full_name"] == "Test User"


@pytest.mark.parametrize("offset", [str(MAX_DB_INT + 1), "1" + "0" * 40])
async def test_offsets_past_64_bits(api: Api, offset: str) -> None:
    admin = await api.account("root@example.com", admin=True)
    response = await api.client.get(f"/api/v1/users?offset={offset}", headers=admin.auth)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.offset"


async def test_the_largest_offset_is_served(api: Api) -> None:
    admin = await api.account("root@example.com", admin=True)
    response = await api.client.get(f"/api/v1/users?offset={MAX_DB_INT}", headers=admin.auth)
    assert response.status_code == 200
    assert response.json()["items"] == [] and response.json()["total"] == 1


async def _store_hash(api: Api, email: str, hashed: str) -> None:
    async with api.app.state.session_factory() as session:
        await session.execute(
            update(User).where(User.email == email).values(hashed_password=hashed)
        )
        await session.commit()


async def test_legacy_bcrypt_hash_of_a_long_password(api: Api) -> None:
    long_password = "p" * 60 + "\u00e9" * 20  # 100 bytes in UTF-8
    await api.register("old@example.com")
    # What a legacy system stored: bcrypt of the first 72 bytes (bcrypt ignored the rest).
    legacy = bcrypt.hashpw(long_password.encode()[:72], bcrypt.gensalt(rounds=4)).decode()
    await _store_hash(api, "old@example.com", legacy)

    assert (await api.login("old@example.com", "q" + long_password[1:])).status_code == 401
    assert (await api.login("old@example.com", long_password)).status_code == 200
    async with api.app.state.session_factory() as session:
        user = (
            await session.execute(select(User).where(User.email == "old@example.com"))
        ).scalar_one()
    # Rehashed from the whole password: from now on all of it counts.
    assert user.hashed_password.startswith("$argon2id$")
    assert (await api.login("old@example.com", long_password)).status_code == 200
    assert (await api.login("old@example.com", long_password[:-1] + "x")).status_code == 401


async def test_a_hash_no_hasher_knows_never_matches(api: Api) -> None:
    await api.register("odd@example.com")
    await _store_hash(api, "odd@example.com", "md5$not-a-supported-scheme")
    assert (await api.login("odd@example.com")).status_code == 401


class _Nested(RequestModel):
    tags: list[str] = Field(default_factory=list)
    meta: dict[str, Any] = Field(default_factory=dict)
    count: int = 0


@pytest.mark.parametrize(
    ("body", "error_type"),
    [
        ({"tags": ["ok", "b\x00d"]}, "string_nul"),
        ({"meta": {"k\x00": 1}}, "string_nul"),
        ({"meta": {"k": [{"deep": "x\x00"}]}}, "string_nul"),
        ({"count": MAX_DB_INT + 1}, "int_out_of_range"),
        ({"count": -(2**63) - 1}, "int_out_of_range"),
        ({"meta": {"k": [2**64]}}, "int_out_of_range"),
    ],
)
def test_every_field_is_checked_recursively(body: dict[str, Any], error_type: str) -> None:
    with pytest.raises(ValueError, match=error_type):
        _Nested.model_validate(body)


def test_storable_values_pass() -> None:
    check_storable({"a": ["b", 1, -(2**63), MAX_DB_INT, True, 1.5, None]})
    assert _Nested.model_validate({"count": MAX_DB_INT}).count == MAX_DB_INT
