"""Where principals are cached, and what happens without a working cache: reads stay correct,
from the database, one query per authentication."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx
import pytest
from asgi_lifespan import LifespanManager
from typer.testing import CliRunner

from example_service.app import create_app
from example_service.auth.cache import principals_enabled
from example_service.cli import build_cli
from example_service.settings import CacheSettings, DatabaseSettings, Settings
from tests.identity import Api, cache_sections, security_settings


def me(account_id: str) -> str:
    return f"/api/v1/users/{account_id}"


NOT_WORKING = [
    "off",
    # part: redis
    "redis-down",
    # end part: redis
]


@pytest.mark.parametrize("cache_kind", NOT_WORKING)
async def test_without_a_working_cache_every_read_is_right_from_the_database(
    cached_api: Api,
) -> None:
    admin = await cached_api.account("root@example.com", admin=True)
    alice = await cached_api.account("alice@example.com")
    for _ in range(2):
        with cached_api.counting() as seen:
            own = await cached_api.client.get(me(alice.id), headers=alice.auth)
            other = await cached_api.client.get(me(alice.id), headers=admin.auth)
        assert own.status_code == other.status_code == 200
        assert seen.statements == 3  # alice's principal; the admin's, then alice's record
        assert seen.commits == 0
    renamed = await cached_api.client.patch(
        me(alice.id), headers=alice.auth, json={"full_name": "Alice A."}
    )
    assert renamed.status_code == 200
    assert (await cached_api.client.get(me(alice.id), headers=admin.auth)).json()[
        "full_name"
    ] == "Alice A."
    logout = await cached_api.client.post("/api/v1/auth/logout", headers=alice.auth)
    assert logout.status_code == 204
    assert (await cached_api.client.get(me(alice.id), headers=alice.auth)).status_code == 401


async def test_in_process_cache_leaves_principals_to_the_database_by_default(api: Api) -> None:
    # CACHE_AUTH=auto with the in-process backend: another worker could not be told of a logout.
    alice = await api.account("alice@example.com")
    for _ in range(3):
        with api.counting() as seen:
            response = await api.client.get(me(alice.id), headers=alice.auth)
        assert response.status_code == 200
        assert seen.statements == 1


def test_principals_are_cached_in_process_only_when_asked() -> None:
    assert not principals_enabled(CacheSettings(), "memory")
    assert principals_enabled(CacheSettings(auth="on"), "memory")
    # part: redis
    assert principals_enabled(CacheSettings(), "redis")
    assert principals_enabled(CacheSettings(), "two-level")
    assert not principals_enabled(CacheSettings(auth="off"), "redis")
    # end part: redis


def test_serve_refuses_in_process_principals_with_several_workers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CACHE_AUTH", "on")
    result = CliRunner().invoke(build_cli(), ["serve", "--workers", "2"])
    assert result.exit_code == 2
    assert "CACHE_AUTH=on" in result.stderr


# part: redis
@dataclass
class Pair:
    """Two app instances on one shared cache and database: `api` drives the first, `other` is
    a client of the second."""

    api: Api
    other: httpx.AsyncClient


@pytest.fixture
async def pair(
    make_settings: Callable[..., Settings],
    migrated_url: str,
    cache_kind: str,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Pair]:
    settings = make_settings(
        database=DatabaseSettings(url=migrated_url),
        security=security_settings(),
        **cache_sections(cache_kind, request),
    )
    first, second = create_app(settings), create_app(settings)
    async with LifespanManager(first) as one, LifespanManager(second) as two:
        clients = [
            httpx.AsyncClient(transport=httpx.ASGITransport(app=m.app), base_url="http://t")
            for m in (one, two)
        ]
        async with clients[0] as a, clients[1] as b:
            yield Pair(Api(a, first, one.app), b)


@pytest.mark.parametrize("cache_kind", ["redis", "two-level"])
async def test_a_revocation_reaches_another_instance_at_once(pair: Pair) -> None:
    """Two instances on one shared cache: a logout through one is refused by the other."""
    alice = await pair.api.account("alice@example.com")
    for _ in range(2):
        assert (await pair.other.get(me(alice.id), headers=alice.auth)).status_code == 200
    logout = await pair.api.client.post("/api/v1/auth/logout", headers=alice.auth)
    assert logout.status_code == 204
    assert (await pair.other.get(me(alice.id), headers=alice.auth)).status_code == 401


@pytest.mark.parametrize("cache_kind", ["redis", "two-level"])
async def test_a_change_to_a_cached_record_reaches_another_instance(pair: Pair) -> None:
    """An administrator's cached read on one instance follows a PATCH made through the other:
    at once on Redis, once the invalidation message arrives on two levels (near cache)."""
    admin = await pair.api.account("root@example.com", admin=True)
    alice = await pair.api.account("alice@example.com")
    for _ in range(2):  # the second read is the cache's (near, on two levels)
        read = await pair.other.get(me(alice.id), headers=admin.auth)
        assert read.json()["full_name"] != "Alice A."
    renamed = await pair.api.client.patch(
        me(alice.id), headers=alice.auth, json={"full_name": "Alice A."}
    )
    assert renamed.status_code == 200
    deadline = asyncio.get_running_loop().time() + 2.0
    while True:
        read = await pair.other.get(me(alice.id), headers=admin.auth)
        if read.json()["full_name"] == "Alice A.":
            break
        assert asyncio.get_running_loop().time() < deadline, "the change never arrived"
        await asyncio.sleep(0.01)


# end part: redis
