"""`example-service health`: probe a running instance (exit 0 when ready)."""

from __future__ import annotations

from typing import Annotated

import typer


def register(cli: typer.Typer) -> None:
    @cli.command()
    def health(
        url: Annotated[
            str, typer.Option(help="Base URL of the running instance.")
        ] = "http://127.0.0.1:8000",
        probe: Annotated[str, typer.Option(help="live, ready or startup.")] = "ready",
        timeout: Annotated[float, typer.Option(help="Seconds to wait.")] = 5.0,
    ) -> None:
        """Ask a running instance whether it is healthy."""
        import httpx  # noqa: PLC0415 - only this command needs it

        target = f"{url.rstrip('/')}/api/v1/health/{probe}"
        try:
            response = httpx.get(target, timeout=timeout)
        except httpx.HTTPError as exc:
            typer.echo(f"unreachable: {target}: {exc}", err=True)
            raise typer.Exit(code=1) from exc
        typer.echo(f"{response.status_code} {response.text}")
        if response.status_code != 200:
            raise typer.Exit(code=1)
