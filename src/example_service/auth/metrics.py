"""Authentication and authorization, counted with TELEMETRY_MODE=prometheus: login attempts by
outcome, credentials checked by scheme and outcome, and authorization denials by the status
they were answered with. Every label value is one of a few fixed words (declared at 0)."""

from __future__ import annotations

from typing import Any

LOGIN_OUTCOMES = ("success", "failed", "limited")
SCHEMES = ("bearer", "api_key", "none")
CREDENTIAL_OUTCOMES = ("valid", "invalid", "missing")
DENIAL_STATUSES = ("403", "404")


class AuthMetrics:
    def __init__(self, registry: Any) -> None:
        from prometheus_client import Counter  # noqa: PLC0415 - that mode only

        self.logins = Counter(
            "auth_logins", "Login attempts by outcome", ["outcome"], registry=registry
        )
        self.credentials = Counter(
            "auth_credentials",
            "Credentials checked by authentication, by scheme and outcome",
            ["scheme", "outcome"],
            registry=registry,
        )
        self.denials = Counter(
            "authz_denials",
            "Requests refused by authorization (403, or 404 hiding what the caller may not see)",
            ["status"],
            registry=registry,
        )
        for outcome in LOGIN_OUTCOMES:
            self.logins.labels(outcome)
        for scheme in SCHEMES:
            for checked in CREDENTIAL_OUTCOMES:
                self.credentials.labels(scheme, checked)
        for status in DENIAL_STATUSES:
            self.denials.labels(status)

    def login(self, outcome: str) -> None:
        self.logins.labels(outcome).inc()

    def credential(self, scheme: str, outcome: str) -> None:
        self.credentials.labels(scheme, outcome).inc()

    def denied(self, status: int) -> None:
        self.denials.labels(str(status)).inc()
