"""OUTBOUND_SERVICES: `name=url` pairs or a JSON object with per-service overrides."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from example_service.settings import OutboundSettings, Settings


def test_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "OUTBOUND_SERVICES", "payments=https://pay.internal/v1/, geo=http://geo:8080"
    )
    services = Settings.load().outbound.services
    assert {name: s.url for name, s in services.items()} == {
        "payments": "https://pay.internal/v1",  # no trailing slash: paths start with one
        "geo": "http://geo:8080",
    }
    assert services["geo"].read_timeout_seconds is None  # the section's
    assert services["geo"].required is False


def test_json_with_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "OUTBOUND_SERVICES",
        '{"geo": "http://geo:8080", "payments": {"url": "https://pay.internal",'
        ' "read_timeout_seconds": 20, "health_path": "/healthz", "required": true}}',
    )
    settings = Settings.load()
    payments = settings.outbound.services["payments"]
    assert payments.read_timeout_seconds == 20 and payments.health_path == "/healthz"
    assert payments.required is True
    assert settings.outbound.services["geo"].url == "http://geo:8080"
    assert settings.notices == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("payments", "is not 'name=url'"),
        ("Payments=https://pay.internal", "lowercase"),
        ("payments=ftp://pay.internal", "not an http(s) base URL"),
        ("payments=https://pay.internal?x=1", "not an http(s) base URL"),
        ("payments=https://user:secret@pay.internal", "no credentials"),
        ('{"payments": {"url": "https://p", "read_timeout": 3}}', "read_timeout"),
        ('{"payments": {"url": "https://p", "health_path": "healthz"}}', "health_path"),
    ],
)
def test_mistakes_are_refused_naming_them(
    monkeypatch: pytest.MonkeyPatch, value: str, message: str
) -> None:
    monkeypatch.setenv("OUTBOUND_SERVICES", value)
    with pytest.raises(ValidationError, match="services") as caught:
        Settings.load()
    assert message in str(caught.value)
    assert "secret" not in str(caught.value)


def test_none_by_default() -> None:
    assert OutboundSettings().services == {}
