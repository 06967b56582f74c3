"""The edge-protection part of `SecuritySettings` (SECURITY_): geo blocking, bans, alerting.

Kept apart from the other security settings only for the length of `sections.py`; the names
are the seeds' (`SECURITY_ENABLE_GEO_BLOCKING`, ...). Everything here is off by default, and a
feature that is off installs nothing (see security/).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from example_service.settings.base import CsvList, _Section


class ProtectionSettings(_Section):
    # Geo blocking (security/geoip.py): the country of the client address, from a MaxMind DB
    # file (GeoLite2-Country or any database with `country.iso_code`).
    enable_geo_blocking: bool = False
    geoip_database_path: Path | None = None
    allowed_countries: CsvList = Field(default_factory=list)  # ISO codes; set: only these
    blocked_countries: CsvList = Field(default_factory=list)  # ISO codes refused
    # An address the database does not place in a country (new allocations, anycast, ...).
    geo_unknown_country: Literal["allow", "block"] = "allow"
    # How often the file is checked for a new version (replace it atomically: write, rename).
    geoip_reload_seconds: float = Field(default=60.0, gt=0)

    # Abuse protection (security/bans.py): temporary bans, escalating.
    enable_ddos_protection: bool = False
    ban_rate_limit_refusals: int = Field(default=10, ge=1)  # 429s within the window -> ban
    ban_auth_failures: int = Field(default=20, ge=1)  # 401s within the window -> ban
    ban_window_seconds: int = Field(default=60, ge=1)
    ban_durations: CsvList = Field(default_factory=lambda: ["60", "600", "3600"])  # seconds
    # How long after its last ban a client keeps its level (its next ban is the longer one).
    ban_memory_seconds: int = Field(default=86_400, ge=1)
    # How often each process refreshes its table of bans (with Redis: bans made elsewhere,
    # unbans).
    ban_sync_seconds: float = Field(default=1.0, gt=0)
    # An IPv6 client counts as its network of this many bits (one subscriber holds a /64).
    ban_ipv6_prefix_length: int = Field(default=64, ge=32, le=128)
    ban_prefix: str = "abuse:"  # Redis keys: strikes, levels, bans, and the alert counts
    # Refused with 403 whatever the other settings say (IPs or CIDRs).
    denied_addresses: CsvList = Field(default_factory=list)
    # Requests in flight per client address, per process; 0: no limit.
    max_concurrent_per_client: int = Field(default=0, ge=0)

    # Alerting (security/alerts.py): thresholds per client address and in total, per window.
    enable_alerting: bool = False
    alert_rate_limit_threshold: int = Field(default=100, ge=1)
    alert_auth_failure_threshold: int = Field(default=50, ge=1)
    alert_total_rate_limit_threshold: int = Field(default=1000, ge=1)
    alert_total_auth_failure_threshold: int = Field(default=500, ge=1)
    alert_window_seconds: int = Field(default=60, ge=1)
    # An OUTBOUND_SERVICES name: each alert is POSTed to it (its breaker and retries apply).
    alert_webhook_service: str | None = None
    alert_webhook_path: str = Field(default="/", pattern=r"^/")

    @field_validator("allowed_countries", "blocked_countries")
    @classmethod
    def _check_countries(cls, value: list[str]) -> list[str]:
        codes = [item.strip().upper() for item in value]
        for code in codes:
            if len(code) != 2 or not code.isascii() or not code.isalpha():
                raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
        return codes

    @field_validator("denied_addresses")
    @classmethod
    def _check_denied(cls, value: list[str]) -> list[str]:
        for item in value:
            ipaddress.ip_network(item, strict=False)  # ValueError names the bad entry
        return value

    @field_validator("ban_durations")
    @classmethod
    def _check_durations(cls, value: list[str]) -> list[str]:
        if not value or not all(item.strip().isdigit() and int(item) > 0 for item in value):
            raise ValueError("ban durations are whole seconds > 0, shortest first: 60,600,3600")
        return [item.strip() for item in value]

    @property
    def ban_duration_seconds(self) -> list[int]:
        return [int(item) for item in self.ban_durations]

    @property
    def protection_on(self) -> bool:
        """Whether the abuse layer is installed (bans, deny list or concurrency limit)."""
        return bool(
            self.enable_ddos_protection or self.denied_addresses or self.max_concurrent_per_client
        )

    def protection_problems(self, outbound_services: list[str]) -> list[str]:
        """Settings that cannot work together, one message each (startup refuses them)."""
        problems: list[str] = []
        if self.enable_geo_blocking:
            if self.geoip_database_path is None:
                problems.append(
                    "SECURITY_ENABLE_GEO_BLOCKING needs SECURITY_GEOIP_DATABASE_PATH "
                    "(a MaxMind DB file such as GeoLite2-Country.mmdb)"
                )
            if not self.allowed_countries and not self.blocked_countries:
                problems.append(
                    "SECURITY_ENABLE_GEO_BLOCKING needs SECURITY_ALLOWED_COUNTRIES or "
                    "SECURITY_BLOCKED_COUNTRIES"
                )
        webhook = self.alert_webhook_service
        if webhook is not None and webhook not in outbound_services:
            problems.append(
                f"SECURITY_ALERT_WEBHOOK_SERVICE={webhook} is not one of OUTBOUND_SERVICES"
            )
        return problems
