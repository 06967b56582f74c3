"""`monitor prometheus-config`: the scrape job follows where and how /metrics is served."""

from __future__ import annotations

import pytest
import yaml
from pydantic import SecretStr
from typer.testing import CliRunner

from example_service.cli import build_cli
from example_service.observability.scrape import scrape_config
from example_service.settings import TelemetrySettings
from tests.conftest import SettingsFactory


def job(text: str) -> dict[str, object]:
    config = yaml.safe_load(text)
    assert config["rule_files"] == ["alerts.yml"]
    [only] = config["scrape_configs"]
    assert only["job_name"] == "example-service"
    return dict(only)


def test_on_the_api_port_with_a_token(make_settings: SettingsFactory) -> None:
    telemetry = TelemetrySettings(mode="prometheus", metrics_token=SecretStr("t0ken-value"))
    text = scrape_config(make_settings(telemetry=telemetry), None, "/run/secrets/token")
    assert "t0ken-value" not in text  # the file names where the token is, never the token
    scraped = job(text)
    assert scraped["authorization"] == {"credentials_file": "/run/secrets/token"}
    assert scraped["static_configs"] == [{"targets": ["localhost:8000"]}]


def test_on_a_port_of_its_own(make_settings: SettingsFactory) -> None:
    telemetry = TelemetrySettings(
        mode="prometheus", metrics_port=9464, metrics_token=SecretStr("unused")
    )
    scraped = job(scrape_config(make_settings(telemetry=telemetry), "app-1:9464", "/t"))
    assert "authorization" not in scraped  # the listener of its own asks for no token
    assert scraped["static_configs"] == [{"targets": ["app-1:9464"]}]


def test_the_command_says_when_nothing_is_served(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEMETRY_MODE", "noop")
    result = CliRunner().invoke(build_cli(), ["monitor", "prometheus-config"])
    assert result.exit_code == 0
    assert "serves no /metrics" in result.stderr
    assert job(result.stdout)["metrics_path"] == "/metrics"
