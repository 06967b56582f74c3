"""Users: who may see and change whom, and what a change does to outstanding tokens and to
the cache."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from example_service.auth.cache import IdentityCache, changed_after_commit
from example_service.auth.dependencies import Principal
from example_service.auth.passwords import Passwords
from example_service.auth.roles import Permission, Role
from example_service.db.pagination import PageParams
from example_service.db.session import read_session
from example_service.observability.logging import get_logger
from example_service.tasks.builtin import WELCOME_EMAIL, WelcomeEmail
from example_service.tasks.runtime import TaskRuntime, TasksUnavailableError
from example_service.users.exceptions import (
    AdminFieldsError,
    CurrentPasswordError,
    EmailTakenError,
    UserNotFoundError,
)
from example_service.users.models import User
from example_service.users.repository import UserRepository
from example_service.users.schemas import UserCreate, UserRead, UserUpdate

logger = get_logger("example_service.users")


def _may_see(principal: Principal, user_id: uuid.UUID) -> None:
    """404 unless the caller is the user or may read anyone, exactly as if the user did not
    exist."""
    if principal.user.id != user_id and not principal.can(Permission.USERS_READ_ANY):
        raise UserNotFoundError().denied_to(principal.user.id)


async def read_public(principal: Principal, user_id: uuid.UUID, state: Any) -> UserRead:
    """The public record of a user the caller may see, from app `state`'s cache or a read
    session of its own (db/session.py): a read the cache answers opens no session at all.

    Cached after the check above, so the cache never answers who may see what.
    """
    if principal.user.id == user_id:
        return principal.user  # already known from authentication: no query
    _may_see(principal, user_id)
    cache: IdentityCache | None = state.identity_cache
    if cache is not None:
        cached = await cache.users.get(str(user_id))
        if cached is not None:
            return cached
    async with read_session(state) as session:
        user = await UserRepository(session).get(user_id)
        public = None if user is None else UserRead.model_validate(user)
    if public is None:
        raise UserNotFoundError
    if cache is not None:
        await cache.users.set(str(user_id), public)
    return public


class UserService:
    def __init__(
        self, session: AsyncSession, passwords: Passwords, cache: IdentityCache | None = None
    ) -> None:
        self.session = session
        self.users = UserRepository(session)
        self.passwords = passwords
        self.cache = cache

    async def register(self, data: UserCreate, role: Role = Role.USER) -> User:
        email = data.email.lower()
        self.passwords.policy.check(data.password, email)
        if await self.users.get_by_email(email) is not None:
            raise EmailTakenError
        user = User(
            email=email,
            full_name=data.full_name,
            hashed_password=await self.passwords.hash(data.password),
            role=role.value,
            is_active=True,
            token_version=0,
        )
        try:
            await self.users.add(user)
        except IntegrityError as exc:  # registered concurrently between the check and the insert
            raise EmailTakenError from exc
        logger.info("user.registered", user_id=str(user.id), role=user.role)
        return user

    async def _visible(self, principal: Principal, user_id: uuid.UUID) -> User:
        """The row of a user the caller may see, to change it; otherwise 404."""
        _may_see(principal, user_id)
        user = await self.users.get(user_id)
        if user is None:
            raise UserNotFoundError
        return user

    async def update(self, principal: Principal, user_id: uuid.UUID, data: UserUpdate) -> User:
        user = await self._visible(principal, user_id)
        fields = data.model_fields_set
        if fields & {"role", "is_active"} and not principal.can(Permission.USERS_MANAGE_ROLES):
            raise AdminFieldsError().denied_to(principal.user.id)
        if principal.user.id != user.id and not principal.can(Permission.USERS_WRITE_ANY):
            raise UserNotFoundError().denied_to(principal.user.id)
        revoke = False
        if data.password is not None:
            self.passwords.policy.check(data.password, user.email)
            if principal.user.id == user.id:
                valid, _ = await self.passwords.verify(
                    data.current_password or "", user.hashed_password
                )
                if not valid:
                    raise CurrentPasswordError
            user.hashed_password = await self.passwords.hash(data.password)
            revoke = True
        if data.full_name is not None:
            user.full_name = data.full_name
        if data.role is not None and data.role.value != user.role:
            user.role = data.role.value
            revoke = True
        if data.is_active is not None and data.is_active != user.is_active:
            user.is_active = data.is_active
            revoke = True
        if revoke:
            # Every token issued before carries the old version and is refused from now on.
            user.token_version += 1
        await self.users.save()
        changed_after_commit(self.cache, self.session, user.id)
        logger.info(
            "user.updated",
            user_id=str(user.id),
            by=str(principal.user.id),
            fields=sorted(fields - {"password", "current_password"}),
            credentials_changed=revoke,
        )
        return user

    async def delete(self, principal: Principal, user_id: uuid.UUID) -> None:
        user = await self._visible(principal, user_id)
        if principal.user.id != user.id and not principal.can(Permission.USERS_WRITE_ANY):
            raise UserNotFoundError().denied_to(principal.user.id)
        await self.users.delete(user)
        changed_after_commit(self.cache, self.session, user_id)
        logger.info("user.deleted", user_id=str(user_id), by=str(principal.user.id))

    async def page(self, params: PageParams) -> tuple[list[User], int]:
        return await self.users.page(params)


# part: tasks
async def send_welcome(tasks: TaskRuntime, user: User) -> None:
    """Enqueue the welcome e-mail. Registration does not fail with the queue: the account
    exists, and the e-mail is the one thing lost (logged as `task.enqueue_failed`)."""
    args = WelcomeEmail(email=user.email, full_name=user.full_name)
    with contextlib.suppress(TasksUnavailableError):
        # One e-mail per account, however many times this is sent.
        await tasks.enqueue(WELCOME_EMAIL, args, idempotency_key=f"welcome:{user.id}")


# end part: tasks
