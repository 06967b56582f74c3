"""`example-service serve`: uvicorn with the app factory; our logging, uvicorn's access log off."""

from __future__ import annotations

from typing import Annotated

import typer


def register(cli: typer.Typer) -> None:
    @cli.command()
    def serve(
        host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
        workers: Annotated[
            int | None, typer.Option(min=1, help="Worker processes (default SERVER_WORKERS).")
        ] = None,
        reload: Annotated[
            bool, typer.Option(help="Restart on code changes (development).")
        ] = False,
    ) -> None:
        """Serve the API with uvicorn (timeouts: the SERVER_* settings)."""
        # Imported here: the other commands start faster without the server and logging stack.
        from example_service.observability.logging import configure_logging  # noqa: PLC0415
        from example_service.serving import run  # noqa: PLC0415
        from example_service.serving.workers import refusal as workers_refusal  # noqa: PLC0415
        from example_service.settings import Settings, SettingsError  # noqa: PLC0415

        try:
            settings = Settings.load()
            settings.check()
        except SettingsError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(code=2) from exc
        if workers is None:
            workers = settings.server.workers
        refused = workers_refusal(settings, workers)
        if refused is not None:
            typer.echo(f"error: {refused}", err=True)
            raise typer.Exit(code=2)
        configure_logging(settings.log)
        from example_service.db.schema import preflight  # noqa: PLC0415

        refused = preflight(settings)  # before any worker: see db/schema.py
        if refused is not None:
            typer.echo(f"error: {refused}", err=True)
            raise typer.Exit(code=1)

        config = run.build_config(
            settings.server, host=host, port=port, workers=workers, reload=reload
        )
        if workers > 1 and settings.telemetry.mode == "prometheus":
            # Before any worker imports prometheus_client: their counters then live in files
            # that a scrape of any of them sums (observability/multiprocess.py).
            from example_service.observability import multiprocess  # noqa: PLC0415

            with multiprocess.directory():
                run.run(config)
            return
        run.run(config)
