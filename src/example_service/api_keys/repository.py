from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from example_service.api_keys.models import ApiKey


class ApiKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, key: ApiKey) -> ApiKey:
        self.session.add(key)
        await self.session.flush()
        return key

    async def owned(self, user_id: uuid.UUID) -> list[ApiKey]:
        result = await self.session.scalars(
            select(ApiKey).where(ApiKey.user_id == user_id).order_by(ApiKey.created_at)
        )
        return list(result)

    async def get_owned(self, user_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey | None:
        result = await self.session.scalars(
            select(ApiKey).where(ApiKey.id == key_id, ApiKey.user_id == user_id)
        )
        return result.one_or_none()

    async def save(self) -> None:
        await self.session.flush()
