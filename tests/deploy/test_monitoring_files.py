"""The monitoring overlay (compose.monitoring.yaml) against the service's compose file and the
Prometheus and Grafana configuration it mounts. A project generated without the monitoring
stack has none of these files, nor this test."""

from __future__ import annotations

import re
from typing import Any

import httpx
import yaml

from tests.deploy import files


def test_prometheus_and_grafana_find_the_compose_services() -> None:
    services = files.compose_services()
    config: dict[str, Any] = yaml.safe_load(files.PROMETHEUS.read_text())
    (job,) = config["scrape_configs"]
    (lookup,) = job["dns_sd_configs"]
    assert set(lookup["names"]) == {
        role for role in files.SERVICE_ROLES if role in ("app", "worker")
    }
    for name in lookup["names"]:
        assert str(lookup["port"]) == services[name]["environment"]["TELEMETRY_METRICS_PORT"]
    (alerting,) = config["alerting"]["alertmanagers"][0]["static_configs"]
    assert {target.split(":")[0] for target in alerting["targets"]} <= set(services)
    volumes = " ".join(services["prometheus"]["volumes"])
    for rules in config["rule_files"]:
        assert f"/{rules}:/etc/prometheus/{rules}" in volumes
    for path in files.GRAFANA_DATASOURCES.glob("*.yml"):
        for source in yaml.safe_load(path.read_text())["datasources"]:
            assert httpx.URL(source["url"]).host in services


def test_the_overlay_joins_the_service_s_network_and_asks_for_its_secret() -> None:
    overlay: dict[str, Any] = yaml.safe_load(files.COMPOSE_MONITORING.read_text())
    networks = set(files.compose()["networks"])
    for name, service in overlay["services"].items():
        assert set(service["networks"]) <= networks, name
    asked = re.findall(r"\$\{(\w+)", files.COMPOSE_MONITORING.read_text())
    assert "GRAFANA_ADMIN_PASSWORD" in asked
    example = (files.ROOT / ".env.example").read_text()
    assert re.search(r"^#? ?GRAFANA_ADMIN_PASSWORD=", example, re.MULTILINE)
