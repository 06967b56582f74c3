"""`example-service serve`: uvicorn with the app factory; our logging, uvicorn's access log off."""

from __future__ import annotations

from typing import Annotated

import typer

from example_service.observability.logging import configure_logging
from example_service.settings import Settings, SettingsError


def register(cli: typer.Typer) -> None:
    @cli.command()
    def serve(
        host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
        workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
        reload: Annotated[
            bool, typer.Option(help="Restart on code changes (development).")
        ] = False,
    ) -> None:
        """Serve the API with uvicorn (timeouts: the SERVER_* settings)."""
        try:
            settings = Settings.load()
            settings.check()
        except SettingsError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(code=2) from exc
        configure_logging(settings.log)
        # uvicorn only when serving: the other commands start faster without it.
        from example_service.serving import run  # noqa: PLC0415

        config = run.build_config(
            settings.server, host=host, port=port, workers=workers, reload=reload
        )
        run.run(config)
