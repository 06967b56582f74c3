"""API keys: 256 random bits, stored as SHA-256 only, shown once."""

from __future__ import annotations

import secrets
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from example_service.api_keys.exceptions import ApiKeyNotFoundError
from example_service.api_keys.models import ApiKey
from example_service.api_keys.repository import ApiKeyRepository
from example_service.auth.cache import IdentityCache, changed_after_commit
from example_service.auth.dependencies import hash_api_key
from example_service.db.base import utcnow
from example_service.observability.logging import get_logger

KEY_PREFIX = "esk_"
logger = get_logger("example_service.api_keys")


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


class ApiKeyService:
    def __init__(self, session: AsyncSession, cache: IdentityCache | None = None) -> None:
        self.session = session
        self.keys = ApiKeyRepository(session)
        self.cache = cache

    async def create(self, user_id: uuid.UUID, name: str) -> tuple[ApiKey, str]:
        key = generate_key()
        row = await self.keys.add(
            ApiKey(
                user_id=user_id,
                name=name,
                prefix=key[: len(KEY_PREFIX) + 6],
                key_hash=hash_api_key(key),
            )
        )
        # The id and prefix only: the key itself never reaches a log line.
        logger.info("api_key.created", key_id=str(row.id), user_id=str(user_id))
        return row, key

    async def owned(self, user_id: uuid.UUID) -> list[ApiKey]:
        return await self.keys.owned(user_id)

    async def revoke(self, user_id: uuid.UUID, key_id: uuid.UUID) -> None:
        row = await self.keys.get_owned(user_id, key_id)
        if row is None:
            raise ApiKeyNotFoundError
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            await self.keys.save()
            # After the commit: the key stops working on every process sharing the cache.
            changed_after_commit(self.cache, self.session, user_id)
        logger.info("api_key.revoked", key_id=str(key_id), user_id=str(user_id))
