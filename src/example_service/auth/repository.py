"""SQL of authentication: the one query that resolves a credential to a user, and sessions."""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Row, Select, and_, bindparam, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from example_service.api_keys.models import ApiKey
from example_service.auth.models import AuthSession
from example_service.users.models import User
from example_service.users.schemas import UserRead

# The public columns, not the entity: authentication needs no ORM object (no identity map
# entry, no instance state) and hands out the public record only.
_PUBLIC = (
    User.id,
    User.email,
    User.full_name,
    User.role,
    User.is_active,
    User.created_at,
    User.updated_at,
)


def _public(row: Row[Any]) -> UserRead:
    return UserRead(
        id=row.id,
        email=row.email,
        full_name=row.full_name,
        role=row.role,
        is_active=row.is_active,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


@cache
def _user_with_session() -> Select[*tuple[Any, ...]]:
    # Built once: constructing a Select costs more than the token check itself.
    return (
        select(
            *_PUBLIC,
            User.token_version,
            AuthSession.id.label("session_id"),
            AuthSession.revoked_at,
        )
        .outerjoin(
            AuthSession,
            and_(AuthSession.id == bindparam("sid"), AuthSession.user_id == User.id),
        )
        .where(User.id == bindparam("uid"))
    )


@cache
def _user_with_key() -> Select[*tuple[Any, ...]]:
    return (
        select(*_PUBLIC, ApiKey.key_hash)
        .join(ApiKey, ApiKey.user_id == User.id)
        .where(ApiKey.key_hash == bindparam("key_hash"), ApiKey.revoked_at.is_(None))
    )


async def user_for_token(
    session: AsyncSession, user_id: uuid.UUID, session_id: uuid.UUID
) -> tuple[UserRead, int, bool] | None:
    """The user, their token version, and whether the token's session is still open, in one
    round trip."""
    row = (await session.execute(_user_with_session(), {"uid": user_id, "sid": session_id})).first()
    if row is None:
        return None
    return _public(row), row.token_version, row.session_id is not None and row.revoked_at is None


async def user_for_key(session: AsyncSession, key_hash: str) -> tuple[UserRead, str] | None:
    """The user of an unrevoked API key, and the key's stored hash."""
    row = (await session.execute(_user_with_key(), {"key_hash": key_hash})).first()
    return None if row is None else (_public(row), row.key_hash)


class SessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, auth_session: AuthSession) -> None:
        self.session.add(auth_session)

    async def get_for_update(self, session_id: uuid.UUID) -> AuthSession | None:
        # FOR UPDATE on PostgreSQL: two refreshes of one token serialize, the second sees the
        # rotated jti and counts as reuse. SQLite ignores it (its writes are serialized anyway).
        result = await self.session.execute(
            select(AuthSession).where(AuthSession.id == session_id).with_for_update()
        )
        return result.scalar_one_or_none()

    async def get(self, session_id: uuid.UUID) -> AuthSession | None:
        return await self.session.get(AuthSession, session_id)

    async def revoke(self, auth_session: AuthSession, now: datetime) -> None:
        if auth_session.revoked_at is None:
            auth_session.revoked_at = now
        await self.session.flush()

    async def purge(self, expired_before: datetime, revoked_before: datetime) -> int:
        """Delete sessions that expired before `expired_before` or were revoked before
        `revoked_before`; how many."""
        result = await self.session.execute(
            delete(AuthSession).where(
                or_(
                    AuthSession.expires_at < expired_before,
                    AuthSession.revoked_at < revoked_before,
                )
            )
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
