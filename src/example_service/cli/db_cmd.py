"""`example-service db upgrade | downgrade | current | revision`: Alembic on DATABASE_URL."""

from __future__ import annotations

from typing import Annotated

import typer
from alembic import command

from example_service.db.migrate import alembic_config


def build() -> typer.Typer:
    group = typer.Typer(help="Database migrations (Alembic).", no_args_is_help=True)

    @group.command("upgrade")
    def upgrade(
        revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
    ) -> None:
        """Apply migrations up to REVISION (default: head)."""
        command.upgrade(alembic_config(), revision)

    @group.command("downgrade")
    def downgrade(
        revision: Annotated[str, typer.Argument(help="Target revision (e.g. -1, base).")] = "-1",
    ) -> None:
        """Revert migrations down to REVISION (default: one step)."""
        command.downgrade(alembic_config(), revision)

    @group.command("current")
    def current() -> None:
        """Show the revision the database is at."""
        command.current(alembic_config(), verbose=False)

    @group.command("revision")
    def revision(
        message: Annotated[str, typer.Option("-m", "--message", help="What it changes.")],
        autogenerate: Annotated[
            bool, typer.Option(help="Diff the models against the database.")
        ] = False,
    ) -> None:
        """Create a new migration script."""
        command.revision(alembic_config(), message=message, autogenerate=autogenerate)

    return group
