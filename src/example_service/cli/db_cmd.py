"""`example-service db upgrade | downgrade | current | revision`: Alembic on DATABASE_URL.

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

    return group
