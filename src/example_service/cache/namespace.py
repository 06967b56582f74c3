"""A named view of the cache: key prefix, typed values, counters, and failing open.

`cache.namespace("users", UserRead)` stores `UserRead` models under
`<CACHE_PREFIX>users.v<schema>:<key>`. The schema part is a digest of the model's JSON schema:
a deploy that changes the model reads none of the old entries (during a rolling deploy, old
and new instances each keep their own until the TTL ends them). Values are JSON (orjson through
pydantic), never pickle. A backend that cannot answer (`BackendUnavailable`) is a miss for
reads and a no-op for writes, counted and logged once per outage: never an error to the client.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import cache
from typing import Generic, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from example_service.cache.base import CacheBackend
from example_service.cache.metrics import CacheMetrics
from example_service.observability.logging import get_logger
from example_service.resilience.errors import BackendUnavailable

M = TypeVar("M", bound=BaseModel)
logger = get_logger("example_service.cache")


@cache
def schema_version(model: type[BaseModel]) -> str:
    """A short digest of the model's JSON schema: changes whenever its shape does."""
    schema = orjson.dumps(model.model_json_schema(), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(schema).hexdigest()[:8]


class CacheNamespace(Generic[M]):
    def __init__(
        self,
        backend: CacheBackend,
        *,
        prefix: str,
        name: str,
        model: type[M],
        ttl: float,
        metrics: CacheMetrics,
    ) -> None:
        self.backend = backend
        self.name = name
        self.model = model
        self.ttl = ttl
        self.metrics = metrics
        metrics.declare(name)
        self.prefix = f"{prefix}{name}.v{schema_version(model)}:"
        self.tag_prefix = f"{prefix}{name}#"
        self._failing = False

    def key(self, key: str) -> str:
        return self.prefix + key

    def tag(self, tag: str) -> str:
        return self.tag_prefix + tag

    async def get(self, key: str) -> M | None:
        try:
            raw = await self.backend.get(self.prefix + key)
        except BackendUnavailable as exc:
            self.failed("get", exc)
            return None
        self.answered()
        if raw is None:
            self.metrics.miss(self.name)
            return None
        try:
            value = self.model.model_validate_json(raw)
        except ValidationError:
            # Written under the same schema digest, so only a corrupt entry lands here.
            self.metrics.miss(self.name)
            return None
        self.metrics.hit(self.name)
        return value

    async def set(
        self, key: str, value: M, ttl: float | None = None, tags: Sequence[str] = ()
    ) -> bool:
        """Store `value`; False when the backend could not take it (it may hold an older one)."""
        try:
            await self.backend.set(
                self.prefix + key,
                value.model_dump_json().encode(),
                self.ttl if ttl is None else ttl,
                [self.tag_prefix + tag for tag in tags],
            )
        except BackendUnavailable as exc:
            self.failed("set", exc)
            return False
        self.answered()
        return True

    async def delete(self, *keys: str) -> bool:
        """Forget `keys`; False when the backend could not be told (the entries then end with
        their TTL, which is the staleness bound: see README, Caching)."""
        try:
            await self.backend.delete(*(self.prefix + key for key in keys))
        except BackendUnavailable as exc:
            self.failed("delete", exc)
            return False
        self.answered()
        return True

    async def delete_tag(self, tag: str) -> bool:
        try:
            await self.backend.delete_tag(self.tag_prefix + tag)
        except BackendUnavailable as exc:
            self.failed("delete_tag", exc)
            return False
        self.answered()
        return True

    def failed(self, operation: str, exc: BackendUnavailable) -> None:
        """Count a backend failure; log the first of an outage. Public for callers that reach
        the backend directly for this namespace (several keys in one call)."""
        self.metrics.error(self.name)
        if not self._failing:  # once per outage, not once per request
            self._failing = True
            logger.warning(
                "cache.unavailable", cache=self.name, operation=operation, reason=str(exc)
            )

    def answered(self) -> None:
        if self._failing:
            self._failing = False
            logger.info("cache.available", cache=self.name)
