"""`example-service db upgrade | downgrade | current | revision`: Alembic on DATABASE_URL;
`db seed`: demo accounts.

Alembic and SQLAlchemy are imported when a command runs, not when the CLI starts (~0.6 s).
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from alembic.config import Config


def _alembic() -> tuple[ModuleType, Config]:
    """Alembic's command module and the config for DATABASE_URL."""
    from alembic import command  # noqa: PLC0415

    from example_service.db.migrate import alembic_config  # noqa: PLC0415

    return command, alembic_config()


def build() -> typer.Typer:
    group = typer.Typer(help="Database migrations (Alembic).", no_args_is_help=True)

    @group.command("upgrade")
    def upgrade(
        revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
    ) -> None:
        """Apply migrations up to REVISION (default: head)."""
        command, config = _alembic()
        command.upgrade(config, revision)

    @group.command("downgrade")
    def downgrade(
        revision: Annotated[str, typer.Argument(help="Target revision (e.g. -1, base).")] = "-1",
    ) -> None:
        """Revert migrations down to REVISION (default: one step)."""
        command, config = _alembic()
        command.downgrade(config, revision)

    @group.command("current")
    def current() -> None:
        """Show the revision the database is at."""
        command, config = _alembic()
        command.current(config, verbose=False)

    @group.command("revision")
    def revision(
        message: Annotated[str, typer.Option("-m", "--message", help="What it changes.")],
        autogenerate: Annotated[
            bool, typer.Option(help="Diff the models against the database.")
        ] = False,
    ) -> None:
        """Create a new migration script."""
        command, config = _alembic()
        command.revision(config, message=message, autogenerate=autogenerate)

    @group.command("seed")
    def seed(
        password: Annotated[
            str,
            typer.Option(
                prompt=True,
                hide_input=True,
                envvar="SEED_PASSWORD",
                help="The demo accounts' password (or set SEED_PASSWORD).",
            ),
        ],
        users: Annotated[
            int, typer.Option(min=0, max=100, help="Demo users besides the admin.")
        ] = 3,
    ) -> None:
        """Create demo accounts (admin@example.com, user1@example.com, ...) once; refused in
        production."""
        import asyncio  # noqa: PLC0415

        from pydantic import ValidationError  # noqa: PLC0415

        from example_service.cli import seed as seeding  # noqa: PLC0415
        from example_service.errors.exceptions import AppError  # noqa: PLC0415
        from example_service.settings import Settings  # noqa: PLC0415

        settings = Settings.load()
        if settings.app.is_production:
            typer.echo("error: refusing to seed demo accounts in production", err=True)
            raise typer.Exit(1)
        try:
            created, present = asyncio.run(seeding.seed(settings, password, users))
        except AppError as exc:  # the password policy refused the password
            typer.echo(f"error: {exc.detail}", err=True)
            raise typer.Exit(1) from None
        except ValidationError as exc:  # too short or too long for any account
            typer.echo(f"error: password: {exc.errors()[0]['msg']}", err=True)
            raise typer.Exit(1) from None
        for email in created:
            typer.echo(f"created  {email}")
        for email in present:
            typer.echo(f"present  {email}")

    return group
