"""`example-service config show`: the effective settings, secrets masked."""

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

    return group
