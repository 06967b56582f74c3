"""`example-service users create-admin | list`: direct database access, no server needed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

# What these commands need (SQLAlchemy, the models, argon2) is imported when one runs, not when
# the CLI starts: `example-service --help` stays fast.
if TYPE_CHECKING:
    from example_service.settings import Settings
    from example_service.users.service import UserService

T = TypeVar("T")
MAX_PAGE = 100  # db.pagination.MAX_LIMIT, without importing SQLAlchemy to say so


async def _in_session(settings: Settings, work: Callable[[UserService], Awaitable[T]]) -> T:
    from example_service.auth.passwords import Passwords  # noqa: PLC0415
    from example_service.db.engine import create_engine, create_session_factory  # noqa: PLC0415
    from example_service.users.service import UserService  # noqa: PLC0415

    engine = create_engine(settings.database)
    try:
        async with create_session_factory(engine)() as session:
            result = await work(UserService(session, Passwords(settings.security)))
            await session.commit()
            return result
    finally:
        await engine.dispose()


def _settings() -> Settings:
    from example_service.settings import Settings  # noqa: PLC0415

    return Settings.load()


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
        from pydantic import ValidationError  # noqa: PLC0415

        from example_service.auth.roles import Role  # noqa: PLC0415
        from example_service.errors.exceptions import AppError  # noqa: PLC0415
        from example_service.users.schemas import UserCreate  # noqa: PLC0415

        try:
            data = UserCreate(email=email, password=password, full_name=full_name)
        except ValidationError as exc:
            fields = ", ".join(str(err["loc"][0]) for err in exc.errors())
            typer.echo(f"error: invalid {fields}", err=True)
            raise typer.Exit(code=2) from exc

        async def work(service: UserService) -> str:
            user = await service.register(data, role=Role.ADMIN)
            return str(user.id)

        try:
            user_id = asyncio.run(_in_session(_settings(), work))
        except AppError as exc:
            typer.echo(f"error: {exc.detail}", err=True)
            raise typer.Exit(code=1) from exc
        typer.echo(f"created admin {data.email.lower()} ({user_id})")

    @group.command("list")
    def list_users(
        limit: Annotated[
            int, typer.Option(min=1, max=MAX_PAGE, help="Accounts per page, at most.")
        ] = MAX_PAGE,
        offset: Annotated[int, typer.Option(min=0, help="Accounts to skip first.")] = 0,
    ) -> None:
        """List users: id, email, role, active."""
        from example_service.db.pagination import PageParams  # noqa: PLC0415

        async def work(service: UserService) -> list[str]:
            users, total = await service.page(PageParams(limit=limit, offset=offset))
            lines = [
                f"{u.id}  {u.email}  {u.role}  {'active' if u.is_active else 'inactive'}"
                for u in users
            ]
            return [*lines, f"{len(users)} of {total} users"]

        for line in asyncio.run(_in_session(_settings(), work)):
            typer.echo(line)

    return group
