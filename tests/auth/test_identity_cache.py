"""The principal cache's generations on the in-process backend: a read that raced a change never
brings the old state back, and a generation that is gone makes entries misses, never hits."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from example_service.auth.cache import GENERATION_TTL_FACTOR, CachedPrincipal, IdentityCache
from example_service.cache import Cache
from example_service.cache.memory import MemoryBackend
from example_service.cache.metrics import CacheMetrics
from example_service.settings import CacheSettings
from example_service.users.schemas import UserRead
from tests.ratelimit.conftest import FakeClock

USER = uuid.uuid4()
SESSION = uuid.uuid4()


def public(name: str = "Alice") -> UserRead:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return UserRead(
        id=USER,
        email="alice@example.com",
        full_name=name,
        role="user",
        is_active=True,
        created_at=now,
        updated_at=now,
    )


def identity_cache(backend: MemoryBackend, **settings: object) -> IdentityCache:
    cache = Cache(backend, CacheSettings(auth="on", **settings), CacheMetrics())  # type: ignore[arg-type]
    return IdentityCache(cache, principals=True)


async def test_a_read_that_raced_a_change_cannot_bring_the_old_state_back() -> None:
    cache = identity_cache(MemoryBackend())
    # A request looks the token up (miss) and reads the database: the session is open...
    racing = await cache.token(USER, SESSION)
    assert racing.principal is None and racing.stamp is not None
    # ...meanwhile a logout commits and tells the cache, before the racing request writes.
    await cache.changed(USER)
    await cache.remember(racing, public(), token_version=0)
    assert (await cache.token(USER, SESSION)).principal is None
    # A read that starts after the change is cached as usual.
    after = await cache.token(USER, SESSION)
    await cache.remember(after, public("Alice A."), token_version=0)
    hit = (await cache.token(USER, SESSION)).principal
    assert hit is not None and hit.user.full_name == "Alice A."


async def test_one_change_forgets_every_session_and_key_of_the_user() -> None:
    cache = identity_cache(MemoryBackend())
    other = uuid.uuid4()
    key = await cache.api_key("ab" * 32)
    assert key.owner_key is not None  # first sight: the owner is learnt, nothing cached yet
    await cache.remember(key, public())
    for lookup in (
        await cache.token(USER, SESSION),
        await cache.token(USER, other),
        await cache.api_key("ab" * 32),
    ):
        await cache.remember(lookup, public())
    assert (await cache.api_key("ab" * 32)).principal is not None
    assert (await cache.token(USER, other)).principal is not None
    await cache.changed(USER)
    assert (await cache.token(USER, SESSION)).principal is None
    assert (await cache.token(USER, other)).principal is None
    assert (await cache.api_key("ab" * 32)).principal is None


async def test_an_expired_generation_makes_entries_misses() -> None:
    clock = FakeClock(0.0)
    cache = identity_cache(MemoryBackend(clock=clock), auth_ttl_seconds=30)
    lookup = await cache.token(USER, SESSION)
    assert cache.principals is not None and lookup.stamp is not None
    # An entry that outlives its generation (as one could where the backend evicts the
    # generation first).
    entry = CachedPrincipal(stamp=lookup.stamp, token_version=0, user=public())
    await cache.principals.set(lookup.key, entry, ttl=30 * GENERATION_TTL_FACTOR * 2)
    assert (await cache.token(USER, SESSION)).principal is not None
    clock.advance(30 * GENERATION_TTL_FACTOR)
    assert (await cache.token(USER, SESSION)).principal is None
