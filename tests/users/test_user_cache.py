"""The users cache: a user's public record under `users`, read only after authorization."""

from __future__ import annotations

import orjson
import pytest

from example_service.auth.cache import build_identity_cache
from example_service.cache import build_cache
from example_service.cache.namespace import schema_version
from example_service.settings import CacheSettings
from example_service.users.schemas import UserRead
from tests.conftest import SettingsFactory
from tests.identity import Api


async def test_an_admin_read_is_cached_as_the_public_record_only(api: Api) -> None:
    admin = await api.account("root@example.com", admin=True)
    alice = await api.account("alice@example.com")
    url = f"/api/v1/users/{alice.id}"
    with api.counting() as first:
        response = await api.client.get(url, headers=admin.auth)
    with api.counting() as again:
        cached = await api.client.get(url, headers=admin.auth)
    # The admin's own principal is read each time here (in-process cache, CACHE_AUTH=auto).
    assert (first.statements, again.statements) == (2, 1)
    assert cached.json() == response.json()
    backend = api.app.state.cache.backend
    key = f"cache:users.v{schema_version(UserRead)}:{alice.id}"
    stored = orjson.loads(await backend.get(key))
    assert stored == response.json()
    assert set(stored) == set(UserRead.model_fields)  # no hash, version or request id


async def test_the_cache_never_answers_who_may_read(api: Api) -> None:
    admin = await api.account("root@example.com", admin=True)
    alice = await api.account("alice@example.com")
    bob = await api.account("bob@example.com")
    url = f"/api/v1/users/{alice.id}"
    for _ in range(2):
        assert (await api.client.get(url, headers=admin.auth)).status_code == 200
    assert (await api.client.get(url, headers=bob.auth)).status_code == 404


@pytest.mark.parametrize(("default", "expected"), [(300, 60), (10, 10)])
def test_user_records_live_at_most_a_minute(
    make_settings: SettingsFactory, default: int, expected: int
) -> None:
    settings = make_settings(cache=CacheSettings(default_ttl_seconds=default))
    identity = build_identity_cache(build_cache(settings.cache))
    assert identity is not None and identity.users.ttl == expected
