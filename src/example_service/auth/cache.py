"""What authentication and the users API keep in the cache, and how a change reaches it.

Principals (`principals` namespace, CACHE_AUTH_TTL_SECONDS): who a credential is, so that a
repeat bearer token or API key costs no database round trip. One entry per token's
(user, session) and per API key, holding only what `authenticate` checks and the public user:
an entry exists only while the session is open, the user active and the key unrevoked.

Users (`users` namespace, min(CACHE_DEFAULT_TTL_SECONDS, 60)): a user's public record
(`UserRead`, key = the id) as an administrator reads it.

Revocation. Every change to a user, their sessions or their API keys calls `changed(user_id)`
after its commit (db.session.after_commit). That gives the user a new *generation*, a random
value under one key, and every principal entry carries the generation its reader saw *before*
reading the database: an entry counts only while its stamp is the current generation. So:

- the change is seen at once, by every process sharing the backend, and by all of the user's
  sessions and keys with one write (no list of keys to find);
- a read that loaded the row before the commit and writes its entry after the new generation
  cannot bring the old state back (its stamp is the old generation), which deleting entries
  could not prevent;
- a failed commit changes nothing: the generation moves only after a commit succeeded;
- a missing generation (expired, evicted) makes every entry of that user a miss, never a hit.

If the backend cannot be told (Redis unreachable at that moment, logged as
`auth_cache.invalidation_failed`), the process tells it again in the background until it
answers: within a second of Redis answering this process again (after its breaker's recovery
time). CACHE_AUTH_TTL_SECONDS bounds it all the same
(the process may stop first, or be the only one cut off from Redis). An in-process cache
cannot be told of another process's changes at all, which is why CACHE_AUTH=auto caches
principals only on a shared backend (see README, Caching).

The `users` entries are deleted after the commit instead: they are never used to decide who
may do what, and a read racing a change can leave the old record for at most their TTL.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
import uuid
from dataclasses import dataclass
from functools import partial

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from example_service.cache import Cache, CacheNamespace
from example_service.db.session import after_commit
from example_service.observability.logging import get_logger
from example_service.resilience.errors import BackendUnavailable
from example_service.settings import CacheSettings
from example_service.users.schemas import UserRead

logger = get_logger("example_service.auth")

USERS_MAX_TTL = 60  # seconds: the users API's records stay short-lived whatever the default
# A generation outlives the entries stamped with it many times over: its expiry costs each of
# the user's sessions one miss.
GENERATION_TTL_FACTOR = 10
# An API key's owner never changes, so the key -> user mapping may live long; it only says whose
# generation to check.
OWNER_TTL = 24 * 3600
# A change the cache could not be told of is told again, in the background, every so often
# (doubling from the first delay) until the cache answers or the entries it concerns expired.
RESEND_FIRST_DELAY = 0.1
RESEND_MAX_DELAY = 1.0
MAX_UNSENT = 10_000  # users whose change waits to be told, at most (memory stays bounded)


class CachedPrincipal(BaseModel):
    stamp: str  # the user's generation when this entry's database read began
    token_version: int  # what a bearer token must carry (0 for API keys)
    user: UserRead


@dataclass(slots=True, frozen=True)
class Lookup:
    """What a principal lookup found, and how to remember what the database says instead."""

    key: str
    principal: CachedPrincipal | None = None  # a current entry
    stamp: str | None = None  # the generation to write an entry under; None: write nothing
    owner_key: str | None = None  # an API key not seen before: where to note its owner


def principals_enabled(settings: CacheSettings, backend_kind: str) -> bool:
    if settings.auth == "auto":
        return backend_kind != "memory"
    return settings.auth == "on"


class IdentityCache:
    def __init__(self, cache: Cache, *, principals: bool) -> None:
        settings = cache.settings
        # Principals and generations skip a two-level backend's near cache: a revocation must
        # be seen by the next request on every instance, not once pub/sub has delivered it.
        self.backend = cache.shared
        self.metrics = cache.metrics
        self.users: CacheNamespace[UserRead] = cache.namespace(
            "users", UserRead, ttl=min(settings.default_ttl_seconds, USERS_MAX_TTL)
        )
        self.principals: CacheNamespace[CachedPrincipal] | None = None
        if principals:
            self.principals = cache.namespace(
                "principals", CachedPrincipal, ttl=settings.auth_ttl_seconds, near=False
            )
        # Outside the schema-versioned prefix: during a rolling deploy, a change made through
        # a new instance must reach the entries of an old one.
        self._generation = f"{settings.prefix}principals#gen:"
        self._owner = f"{settings.prefix}principals#owner:"
        self._generation_ttl = settings.auth_ttl_seconds * GENERATION_TTL_FACTOR
        self._longest_ttl = max(self.users.ttl, settings.auth_ttl_seconds)
        self._unsent: dict[str, float] = {}  # user id -> when its change could not be told
        self._resender: asyncio.Task[None] | None = None

    # --- principals -------------------------------------------------------------------------

    async def token(self, user_id: uuid.UUID, session_id: uuid.UUID) -> Lookup:
        return await self._lookup(f"t:{user_id}:{session_id}", str(user_id))

    async def api_key(self, key_hash: str) -> Lookup:
        key = f"k:{key_hash}"
        if self.principals is None:
            return Lookup(key)
        try:
            owner = await self.backend.get(self._owner + key_hash)
        except BackendUnavailable as exc:
            self.principals.failed("get", exc)
            return Lookup(key)
        if owner is None:
            # Its user's generation cannot be read before the database says who that is.
            return Lookup(key, owner_key=self._owner + key_hash)
        return await self._lookup(key, owner.decode())

    async def remember(self, lookup: Lookup, user: UserRead, token_version: int = 0) -> None:
        """Store what the database said about a valid credential."""
        if self.principals is None:
            return
        if lookup.owner_key is not None:
            try:
                await self.backend.set(lookup.owner_key, str(user.id).encode(), OWNER_TTL)
            except BackendUnavailable as exc:
                self.principals.failed("set", exc)
        elif lookup.stamp is not None:
            entry = CachedPrincipal(stamp=lookup.stamp, token_version=token_version, user=user)
            await self.principals.set(lookup.key, entry)

    async def _lookup(self, key: str, user_id: str) -> Lookup:
        namespace = self.principals
        if namespace is None:
            return Lookup(key)
        generation_key = self._generation + user_id
        try:
            raw, generation = await self.backend.get_many([namespace.key(key), generation_key])
            if generation is None:
                # Set before the database is read, so that a change committed after that read
                # replaces it (see the module docstring).
                generation = secrets.token_hex(8).encode()
                await self.backend.set(generation_key, generation, self._generation_ttl)
        except BackendUnavailable as exc:
            namespace.failed("get", exc)
            return Lookup(key)
        namespace.answered()
        stamp = generation.decode()
        if raw is not None:
            try:
                entry = CachedPrincipal.model_validate_json(raw)
            except ValidationError:
                entry = None  # written under the same schema digest: only a corrupt entry
            if entry is not None and entry.stamp == stamp:
                self.metrics.hit(namespace.name)
                return Lookup(key, entry, stamp)
        self.metrics.miss(namespace.name)
        return Lookup(key, stamp=stamp)

    # --- changes ----------------------------------------------------------------------------

    async def changed(self, user_id: uuid.UUID) -> None:
        """The user, a session or an API key of theirs changed (committed): forget them."""
        lagging = await self._tell(str(user_id))
        if lagging:
            # Every time, not once per outage: each is a change (a revocation, maybe) that lags.
            logger.warning(
                "auth_cache.invalidation_failed",
                user_id=str(user_id),
                stale_for_at_most_seconds=lagging,
            )
            self._resend_later(str(user_id))

    async def _tell(self, user_id: str) -> float:
        """Delete the user's record and give them a new generation; how long what could not be
        told may stay stale (0: everything was told)."""
        lagging = 0.0
        if not await self.users.delete(user_id):
            lagging = self.users.ttl
        if self.principals is not None:
            try:
                await self.backend.set(
                    self._generation + user_id, secrets.token_hex(8).encode(), self._generation_ttl
                )
            except BackendUnavailable as exc:
                self.principals.failed("set", exc)
                lagging = max(lagging, self.principals.ttl)
        return lagging

    def _resend_later(self, user_id: str) -> None:
        """Tell the cache again, in the background, until it answers: once Redis is back, a
        change it missed is seen within RESEND_MAX_DELAY rather than at the entries' expiry."""
        if user_id not in self._unsent and len(self._unsent) >= MAX_UNSENT:
            return  # beyond this many, the entries' TTL is the bound
        self._unsent.setdefault(user_id, time.monotonic())
        if self._resender is None or self._resender.done():
            self._resender = asyncio.create_task(self._resend())

    async def _resend(self) -> None:
        delay = RESEND_FIRST_DELAY
        while self._unsent:
            await asyncio.sleep(delay)
            delay = min(delay * 2, RESEND_MAX_DELAY)
            for user_id, since in list(self._unsent.items()):
                if time.monotonic() - since > self._longest_ttl:
                    del self._unsent[user_id]  # whatever it could have left stale has expired
                elif await self._tell(user_id):
                    break  # still unreachable: the next round tries again
                else:
                    del self._unsent[user_id]
                    logger.info(
                        "auth_cache.invalidation_sent",
                        user_id=user_id,
                        late_by_seconds=round(time.monotonic() - since, 3),
                    )

    async def aclose(self) -> None:
        """Stop resending (at shutdown): what is left ends with the entries' TTL."""
        if self._resender is not None:
            self._resender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._resender


def changed_after_commit(
    cache: IdentityCache | None, session: AsyncSession, user_id: uuid.UUID
) -> None:
    """Tell the cache that `user_id` changed once `session`'s transaction commits (never before:
    a failed commit must not leave the cache ahead of the database)."""
    if cache is not None:
        after_commit(session, partial(cache.changed, user_id))


def build_identity_cache(cache: Cache | None) -> IdentityCache | None:
    """The identity caches over the process's cache; None when caching is off."""
    if cache is None:
        return None
    return IdentityCache(cache, principals=principals_enabled(cache.settings, cache.backend.kind))
