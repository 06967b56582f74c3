"""`example-service users create-admin | list`: direct database access, no server needed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from example_service.auth.passwords import Passwords
from example_service.auth.roles import Role
from example_service.db.engine import create_engine, create_session_factory
from example_service.db.pagination import MAX_LIMIT, PageParams
from example_service.errors.exceptions import AppError
from example_service.settings import Settings
from example_service.users.schemas import UserCreate
from example_service.users.service import UserService

T = TypeVar("T")


async def _in_session(
    settings: Settings, work: Callable[[UserService, AsyncSession], Awaitable[T]]
) -> T:
    engine = create_engine(settings.database)
    try:
        async with create_session_factory(engine)() as session:
            result = await work(UserService(session, Passwords(settings.security)), session)
            await session.commit()
            return result
    finally:
        await engine.dispose()


def build() -> typer.Typer:
    group = typer.Typer(help="Manage users.", no_args_is_help=True)

    @group.command("create-admin")
    def create_admin(
        email: Annotated[str, typer.Option(prompt=True, help="The administrator's email.")],
        password: Annotated[
            str,
            typer.Option(
                prompt=True,
                hide_input=True,
                confirmation_prompt=True,
                envvar="ADMIN_PASSWORD",
                help="Prompted for when not given (or set ADMIN_PASSWORD).",
            ),
        ],
        full_name: Annotated[str, typer.Option(help="Display name.")] = "Administrator",
    ) -> None:
        """Create a user with the admin role."""
        try:
            data = UserCreate(email=email, password=password, full_name=full_name)
        except ValidationError as exc:
            fields = ", ".join(str(err["loc"][0]) for err in exc.errors())
            typer.echo(f"error: invalid {fields}", err=True)
            raise typer.Exit(code=2) from exc

        async def work(service: UserService, _session: AsyncSession) -> str:
            user = await service.register(data, role=Role.ADMIN)
            return str(user.id)

        try:
            user_id = asyncio.run(_in_session(Settings.load(), work))
        except AppError as exc:
            typer.echo(f"error: {exc.detail}", err=True)
            raise typer.Exit(code=1) from exc
        typer.echo(f"created admin {data.email.lower()} ({user_id})")

    @group.command("list")
    def list_users(
        limit: Annotated[int, typer.Option(min=1, max=MAX_LIMIT)] = MAX_LIMIT,
        offset: Annotated[int, typer.Option(min=0)] = 0,
    ) -> None:
        """List users: id, email, role, active."""

        async def work(service: UserService, _session: AsyncSession) -> list[str]:
            users, total = await service.page(PageParams(limit=limit, offset=offset))
            lines = [
                f"{u.id}  {u.email}  {u.role}  {'active' if u.is_active else 'inactive'}"
                for u in users
            ]
            return [*lines, f"{len(users)} of {total} users"]

        for line in asyncio.run(_in_session(Settings.load(), work)):
            typer.echo(line)

    return group
