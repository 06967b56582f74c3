"""The Prometheus configuration that scrapes this service as its settings serve /metrics."""

from __future__ import annotations

import json

from example_service.settings import Settings

JOB = "example-service"  # the job label the alert rules (deploy/prometheus/alerts.yml) expect
API_PORT = 8000  # `serve`'s default port


def scrape_config(settings: Settings, target: str | None, token_file: str) -> str:
    """A prometheus.yml with one scrape job for the service and the alert rules beside it.

    Values are written as JSON strings, which YAML reads as they are (a target or path with
    YAML's special characters needs no other escaping).
    """
    telemetry = settings.telemetry
    address = target or f"localhost:{telemetry.metrics_port or API_PORT}"
    lines = [
        f"# Scrapes {JOB}; the alert rules are deploy/prometheus/alerts.yml.",
        "global:",
        "  scrape_interval: 15s",
        "  evaluation_interval: 15s",
        "rule_files:",
        "  - alerts.yml",
        "scrape_configs:",
        f"  - job_name: {JOB}",
        "    metrics_path: /metrics",
    ]
    if telemetry.metrics_port is None and telemetry.metrics_token is not None:
        # The token itself never goes into the file: Prometheus reads it from `token_file`.
        lines += ["    authorization:", f"      credentials_file: {json.dumps(token_file)}"]
    lines += ["    static_configs:", f"      - targets: [{json.dumps(address)}]"]
    return "\n".join(lines) + "\n"
