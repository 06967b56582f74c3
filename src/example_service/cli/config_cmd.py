"""`example-service config show`: the effective settings, secrets masked; `config check`:
whether this environment can run the service."""

from __future__ import annotations

import typer


def build() -> typer.Typer:
    group = typer.Typer(help="Inspect configuration.", no_args_is_help=True)

    @group.command("show")
    def show() -> None:
        """Print the effective settings as JSON (secrets masked)."""
        import orjson  # noqa: PLC0415

        from example_service.settings import Settings  # noqa: PLC0415

        settings = Settings.load()
        for notice in settings.notices:
            typer.echo(f"notice: {notice}", err=True)
        dump = settings.public_dump()
        typer.echo(orjson.dumps(dump, option=orjson.OPT_INDENT_2, default=str).decode())

    @group.command("check")
    def check() -> None:
        """Check the settings, the database (reachable, migrated) and Redis (when configured);
        exit 1 naming each problem."""
        from example_service.cli import config_check  # noqa: PLC0415

        fine, problems = config_check.run()
        for line in fine:
            typer.echo(f"ok: {line}")
        for line in problems:
            typer.echo(f"problem: {line}", err=True)
        if problems:
            raise typer.Exit(1)

    return group
