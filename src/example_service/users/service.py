"""Users: who may see and change whom, and what a change does to outstanding tokens."""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from example_service.auth.dependencies import Principal
from example_service.auth.passwords import Passwords
from example_service.auth.roles import Permission, Role
from example_service.db.pagination import PageParams
from example_service.observability.logging import get_logger
from example_service.users.exceptions import (
    AdminFieldsError,
    CurrentPasswordError,
    EmailTakenError,
    UserNotFoundError,
)
from example_service.users.models import User
from example_service.users.repository import UserRepository
from example_service.users.schemas import UserCreate, UserUpdate

logger = get_logger("example_service.users")


class UserService:
    def __init__(self, session: AsyncSession, passwords: Passwords) -> None:
        self.session = session
        self.users = UserRepository(session)
        self.passwords = passwords

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

    async def visible(self, principal: Principal, user_id: uuid.UUID) -> User:
        """The user if the caller may see them; otherwise 404, exactly as if they did not exist."""
        if principal.user.id == user_id:
            return principal.user  # already loaded by authentication: no second query
        if not principal.can(Permission.USERS_READ_ANY):
            raise UserNotFoundError().denied_to(principal.user.id)
        user = await self.users.get(user_id)
        if user is None:
            raise UserNotFoundError
        return user

    async def update(self, principal: Principal, user_id: uuid.UUID, data: UserUpdate) -> User:
        user = await self.visible(principal, user_id)
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
        logger.info(
            "user.updated",
            user_id=str(user.id),
            by=str(principal.user.id),
            fields=sorted(fields - {"password", "current_password"}),
            credentials_changed=revoke,
        )
        return user

    async def delete(self, principal: Principal, user_id: uuid.UUID) -> None:
        user = await self.visible(principal, user_id)
        if principal.user.id != user.id and not principal.can(Permission.USERS_WRITE_ANY):
            raise UserNotFoundError().denied_to(principal.user.id)
        await self.users.delete(user)
        logger.info("user.deleted", user_id=str(user_id), by=str(principal.user.id))

    async def page(self, params: PageParams) -> tuple[list[User], int]:
        return await self.users.page(params)
