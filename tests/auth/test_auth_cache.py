"""Authentication from the principal cache: a repeat credential costs no database round trip,
and every change that revokes or alters it is seen by the very next request.

Each test first proves the cache answers (a request with no statement and no connection), then
makes the change through the API, then checks the next request. Runs on SQLite and PostgreSQL,
for each cache kind in `tests.identity.CACHE_KINDS`.
"""

from __future__ import annotations

import httpx

from tests.identity import Account, Api


async def get(api: Api, url: str, headers: dict[str, str]) -> httpx.Response:
    return await api.client.get(url, headers=headers)


async def warm(api: Api, url: str, headers: dict[str, str]) -> httpx.Response:
    """Read until the cache answers; prove it did (nothing reached the database)."""
    await get(api, url, headers)
    with api.counting() as seen:
        response = await get(api, url, headers)
    assert response.status_code == 200, response.text
    assert (seen.statements, seen.checkouts) == (0, 0)
    return response


def me(account: Account) -> str:
    return f"/api/v1/users/{account.id}"


async def test_a_repeat_token_costs_no_database_round_trip(cached_api: Api) -> None:
    alice = await cached_api.account("alice@example.com")
    with cached_api.counting() as first:
        uncached = await get(cached_api, me(alice), alice.auth)
    assert uncached.status_code == 200
    assert first.statements == 1  # the user with the token's session, one query
    assert first.commits == 0  # a GET reads without a transaction: nothing to commit
    with cached_api.counting() as again:
        cached = await get(cached_api, me(alice), alice.auth)
        mine = await get(cached_api, "/api/v1/users/me", alice.auth)
    assert (again.statements, again.checkouts) == (0, 0)
    assert cached.json() == uncached.json() == mine.json()
    # The same representation byte for byte, so the same tag, wherever it came from.
    assert cached.headers["etag"] == uncached.headers["etag"]


async def test_a_cached_entry_answers_only_tokens_of_its_version(cached_api: Api) -> None:
    alice = await cached_api.account("alice@example.com")
    await warm(cached_api, me(alice), alice.auth)
    tokens = cached_api.app.state.tokens
    claims = tokens.decode(alice.access, "access")
    # Signed with the right key, for the same session, under a version the user never had.
    forged = tokens.issue("access", claims.user_id, claims.version + 1, claims.session_id)
    headers = {"Authorization": f"Bearer {forged.token}"}
    assert (await get(cached_api, me(alice), headers)).status_code == 401


async def test_a_rename_is_seen_at_once_by_the_user_and_an_admin(cached_api: Api) -> None:
    admin = await cached_api.account("root@example.com", admin=True)
    alice = await cached_api.account("alice@example.com")
    await warm(cached_api, me(alice), alice.auth)
    await warm(cached_api, me(alice), admin.auth)  # the users cache, after the admin's principal
    renamed = await cached_api.client.patch(
        me(alice), headers=alice.auth, json={"full_name": "Alice A."}
    )
    assert renamed.status_code == 200
    for headers in (alice.auth, admin.auth):
        assert (await get(cached_api, me(alice), headers)).json()["full_name"] == "Alice A."
    assert (await get(cached_api, "/api/v1/users/me", alice.auth)).json()["full_name"] == (
        "Alice A."
    )


async def test_a_role_change_revokes_at_once(cached_api: Api) -> None:
    admin = await cached_api.account("root@example.com", admin=True)
    alice = await cached_api.account("alice@example.com")
    await warm(cached_api, me(alice), alice.auth)
    await warm(cached_api, me(alice), admin.auth)
    promoted = await cached_api.client.patch(me(alice), headers=admin.auth, json={"role": "admin"})
    assert promoted.status_code == 200
    assert (await get(cached_api, me(alice), alice.auth)).status_code == 401
    assert (await get(cached_api, me(alice), admin.auth)).json()["role"] == "admin"


async def test_deactivation_revokes_tokens_and_keys_at_once(cached_api: Api) -> None:
    admin = await cached_api.account("root@example.com", admin=True)
    alice = await cached_api.account("alice@example.com")
    key = await api_key(cached_api, alice)
    await warm(cached_api, me(alice), alice.auth)
    await warm_key(cached_api, key)
    await warm(cached_api, me(alice), admin.auth)
    off = await cached_api.client.patch(me(alice), headers=admin.auth, json={"is_active": False})
    assert off.status_code == 200
    assert (await get(cached_api, me(alice), alice.auth)).status_code == 401
    assert (await get(cached_api, "/api/v1/users/me", {"X-API-Key": key})).status_code == 401
    assert (await get(cached_api, me(alice), admin.auth)).json()["is_active"] is False


async def test_a_password_change_revokes_at_once(cached_api: Api) -> None:
    alice = await cached_api.account("alice@example.com")
    await warm(cached_api, me(alice), alice.auth)
    changed = await cached_api.client.patch(
        me(alice),
        headers=alice.auth,
        json={"password": "another long one", "current_password": alice.password},
    )
    assert changed.status_code == 200
    assert (await get(cached_api, me(alice), alice.auth)).status_code == 401
    assert (await cached_api.login(alice.email, "another long one")).status_code == 200


async def test_logout_revokes_that_session_at_once_and_only_it(cached_api: Api) -> None:
    alice = await cached_api.account("alice@example.com")
    tokens = (await cached_api.login(alice.email)).json()
    other = {"Authorization": f"Bearer {tokens['access_token']}"}
    await warm(cached_api, me(alice), alice.auth)
    await warm(cached_api, me(alice), other)
    out = await cached_api.client.post("/api/v1/auth/logout", headers=alice.auth)
    assert out.status_code == 204
    assert (await get(cached_api, me(alice), alice.auth)).status_code == 401
    assert (await get(cached_api, me(alice), other)).status_code == 200


async def test_refresh_reuse_revokes_the_session_at_once(cached_api: Api) -> None:
    alice = await cached_api.account("alice@example.com")
    await warm(cached_api, me(alice), alice.auth)
    refresh = {"refresh_token": alice.refresh}
    rotated = await cached_api.client.post("/api/v1/auth/refresh", json=refresh)
    assert rotated.status_code == 200
    fresh = {"Authorization": f"Bearer {rotated.json()['access_token']}"}
    await warm(cached_api, me(alice), fresh)
    # The spent refresh token again: a replay, which revokes the whole session.
    replay = await cached_api.client.post("/api/v1/auth/refresh", json=refresh)
    assert replay.status_code == 401
    assert (await get(cached_api, me(alice), alice.auth)).status_code == 401
    assert (await get(cached_api, me(alice), fresh)).status_code == 401


async def test_api_key_revocation_is_seen_at_once(cached_api: Api) -> None:
    alice = await cached_api.account("alice@example.com")
    key = await api_key(cached_api, alice)
    key_id = (await cached_api.client.get("/api/v1/api-keys", headers=alice.auth)).json()[0]["id"]
    await warm_key(cached_api, key)
    revoked = await cached_api.client.delete(f"/api/v1/api-keys/{key_id}", headers=alice.auth)
    assert revoked.status_code == 204
    assert (await get(cached_api, "/api/v1/users/me", {"X-API-Key": key})).status_code == 401
    # Her bearer token is untouched (its entry misses once, then is cached again).
    assert (await get(cached_api, me(alice), alice.auth)).status_code == 200


async def test_deleting_a_user_is_seen_at_once(cached_api: Api) -> None:
    admin = await cached_api.account("root@example.com", admin=True)
    alice = await cached_api.account("alice@example.com")
    await warm(cached_api, me(alice), alice.auth)
    await warm(cached_api, me(alice), admin.auth)
    deleted = await cached_api.client.delete(me(alice), headers=admin.auth)
    assert deleted.status_code == 204
    assert (await get(cached_api, me(alice), alice.auth)).status_code == 401
    assert (await get(cached_api, me(alice), admin.auth)).status_code == 404


async def api_key(api: Api, account: Account) -> str:
    created = await api.client.post("/api/v1/api-keys", headers=account.auth, json={"name": "ci"})
    assert created.status_code == 201
    return str(created.json()["key"])


async def warm_key(api: Api, key: str) -> None:
    # The first use learns whose key it is, the second caches the principal, the third is a hit.
    for _ in range(2):
        assert (await get(api, "/api/v1/users/me", {"X-API-Key": key})).status_code == 200
    await warm(api, "/api/v1/users/me", {"X-API-Key": key})
