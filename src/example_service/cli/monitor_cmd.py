"""`example-service monitor prometheus-config`: the scrape job Prometheus needs for the
settings in effect (where /metrics answers, with which token), and where the rules are."""

from __future__ import annotations

import typer


def build() -> typer.Typer:
    group = typer.Typer(
        help="Monitoring: the Prometheus configuration, the metrics catalogue.",
        no_args_is_help=True,
    )

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

    @group.command("metrics")
    def metrics(
        markdown: bool = typer.Option(False, "--markdown", help="as docs/metrics.md"),
    ) -> None:
        """List every metric the service exports: name, type, labels, help."""
        from example_service.observability import catalogue  # noqa: PLC0415

        docs = catalogue.catalogue()
        if markdown:
            typer.echo(catalogue.markdown(docs), nl=False)
            return
        for doc in docs:
            labels = ",".join(doc.labels)
            typer.echo(f"{doc.name:42} {doc.type:10} {labels:32} {doc.help}")

    return group
