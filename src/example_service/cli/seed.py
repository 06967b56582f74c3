"""`example-service db seed`: demo accounts (an administrator and users), made once.

Idempotent: an account whose email exists is left as it is, so seeding twice changes nothing.
Refused in production: demo accounts with a shared password have no place there.
"""

from __future__ import annotations

from example_service.auth.passwords import Passwords
from example_service.auth.roles import Role
from example_service.db.engine import create_engine, create_session_factory
from example_service.settings import Settings
from example_service.users.repository import UserRepository
from example_service.users.schemas import UserCreate
from example_service.users.service import UserService

ADMIN = "admin@example.com"


def accounts(users: int) -> list[tuple[str, Role]]:
    return [(ADMIN, Role.ADMIN)] + [
        (f"user{n}@example.com", Role.USER) for n in range(1, users + 1)
    ]


async def seed(settings: Settings, password: str, users: int) -> tuple[list[str], list[str]]:
    """The emails created and those already there."""
    created: list[str] = []
    present: list[str] = []
    engine = create_engine(settings.database)
    try:
        async with create_session_factory(engine)() as session:
            service = UserService(session, Passwords(settings.security))
            repository = UserRepository(session)
            for email, role in accounts(users):
                if await repository.get_by_email(email) is not None:
                    present.append(email)
                    continue
                name = "Demo administrator" if role is Role.ADMIN else "Demo user"
                data = UserCreate(email=email, password=password, full_name=name)
                await service.register(data, role=role)
                created.append(email)
            await session.commit()
    finally:
        await engine.dispose()
    return created, present
