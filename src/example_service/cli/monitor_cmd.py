"""`example-service monitor prometheus-config`: the scrape job Prometheus needs for the
settings in effect (where /metrics answers, with which token), and where the rules are."""

from __future__ import annotations

import typer


def build() -> typer.Typer:
    group = typer.Typer(help="Monitoring: Prometheus configuration.", no_args_is_help=True)

    @group.command("prometheus-config")
    def prometheus_config(
        target: str = typer.Option(
            None,
            help="host:port Prometheus scrapes (default: this host and the port the settings "
            "serve /metrics on)",
        ),
        token_file: str = typer.Option(
            "/etc/prometheus/metrics-token",
            help="where Prometheus reads TELEMETRY_METRICS_TOKEN from, when one is set",
        ),
    ) -> None:
        """Print a prometheus.yml for the settings in effect (TELEMETRY_*)."""
        from example_service.observability.scrape import scrape_config  # noqa: PLC0415
        from example_service.settings import Settings  # noqa: PLC0415

        settings = Settings.load()
        if settings.telemetry.mode != "prometheus":
            typer.echo(
                "notice: TELEMETRY_MODE is not prometheus: the service serves no /metrics",
                err=True,
            )
        typer.echo(scrape_config(settings, target, token_file), nl=False)

    return group
