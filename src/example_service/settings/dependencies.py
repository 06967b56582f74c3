"""The sections of the outbound dependencies: their breakers and retries, the HTTP services."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
)
from pydantic_settings import NoDecode, SettingsConfigDict

from example_service.settings.base import _Section, _section


class ResilienceSettings(_Section):
    """Circuit breakers and retries of the outbound dependencies (timeouts stay with each one:
    DATABASE_*, REDIS_*, OUTBOUND_*)."""

    model_config = _section("RESILIENCE_")

    # Every breaker: opens after this many failed calls in a row...
    failure_threshold: int = Field(default=5, ge=1)
    # ... and lets one trial call through this long after opening.
    recovery_seconds: float = Field(default=30.0, gt=0)
    # Optionally also when this share of the calls of the last window failed (over min_calls).
    failure_rate: float | None = Field(default=None, gt=0, le=1)
    window_seconds: float = Field(default=60.0, gt=0)
    min_calls: int = Field(default=20, ge=1)
    # Per dependency, over the two above (empty: those). Redis and the database are on the
    # request path: a short recovery finds them back soon.
    db_failure_threshold: int | None = Field(default=3, ge=1)
    db_recovery_seconds: float | None = Field(default=5.0, gt=0)
    # part: redis
    redis_failure_threshold: int | None = Field(default=3, ge=1)
    redis_recovery_seconds: float | None = Field(default=5.0, gt=0)
    # end part: redis
    http_failure_threshold: int | None = Field(default=None, ge=1)
    http_recovery_seconds: float | None = Field(default=None, gt=0)
    # Retries of idempotent calls (1 attempt: none).
    retry_attempts: int = Field(default=3, ge=1)
    retry_timeout_seconds: float = Field(default=5.0, gt=0)
    retry_wait_initial_seconds: float = Field(default=0.05, ge=0)
    retry_wait_max_seconds: float = Field(default=1.0, ge=0)

    def breaker_for(self, dependency: str) -> tuple[int, float]:
        """(failure threshold, recovery seconds) of `dependency`: db, redis or http."""
        threshold = getattr(self, f"{dependency}_failure_threshold", None)
        recovery = getattr(self, f"{dependency}_recovery_seconds", None)
        return (
            threshold if threshold is not None else self.failure_threshold,
            recovery if recovery is not None else self.recovery_seconds,
        )


SERVICE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")


class OutboundService(BaseModel):
    """One HTTP service the API calls; an unset timeout is the OUTBOUND_ one."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    connect_timeout_seconds: float | None = Field(default=None, gt=0)
    read_timeout_seconds: float | None = Field(default=None, gt=0)
    write_timeout_seconds: float | None = Field(default=None, gt=0)
    pool_timeout_seconds: float | None = Field(default=None, gt=0)
    attempt_timeout_seconds: float | None = Field(default=None, gt=0)
    # Readiness GETs this path (2xx: up). Unset: readiness shows the breaker and calls nothing.
    health_path: str | None = Field(default=None, pattern=r"^/")
    # Readiness 503 when that path fails; optional services only make it `degraded`.
    required: bool = False

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
            raise ValueError(f"{value!r} is not an http(s) base URL")
        if parts.username or parts.password:
            # `config show` and the logs print these URLs: credentials go in headers.
            raise ValueError(f"{parts.hostname}: no credentials in an outbound URL")
        return value.rstrip("/")


class OutboundSettings(_Section):
    """HTTP services the API calls (outbound/). None by default, and then nothing is built."""

    # A refused URL may hold credentials: startup errors must not print it.
    model_config = _section("OUTBOUND_") | SettingsConfigDict(hide_input_in_errors=True)

    # `name=url,...`, or a JSON object: name -> url, or -> {"url": ..., per-service overrides}.
    services: Annotated[dict[str, OutboundService], NoDecode] = Field(default_factory=dict)
    connect_timeout_seconds: float = Field(default=1.0, gt=0)
    read_timeout_seconds: float = Field(default=5.0, gt=0)  # the longest wait for the next bytes
    write_timeout_seconds: float = Field(default=5.0, gt=0)
    pool_timeout_seconds: float = Field(default=1.0, gt=0)  # for a free pooled connection
    # One attempt whole, sent to body read: bounds an answer that trickles in under the read one.
    attempt_timeout_seconds: float = Field(default=10.0, gt=0)
    max_connections: int = Field(default=100, ge=1)
    # Under the services' own keep-alive, so that a pooled connection is never one they close.
    keepalive_seconds: float = Field(default=4.0, ge=0)

    @field_validator("services", mode="before")
    @classmethod
    def _parse_services(cls, value: Any) -> Any:
        if isinstance(value, list):  # `name=url` pairs, split by _Section
            pairs: dict[str, str] = {}
            for item in value:
                name, sep, url = str(item).partition("=")
                if not sep:
                    raise ValueError(f"outbound service {item!r} is not 'name=url'")
                pairs[name.strip()] = url.strip()
            value = pairs
        if isinstance(value, dict):
            return {k: {"url": v} if isinstance(v, str) else v for k, v in value.items()}
        return value

    @field_validator("services")
    @classmethod
    def _check_names(cls, value: dict[str, OutboundService]) -> dict[str, OutboundService]:
        for name in value:
            if not SERVICE_NAME.fullmatch(name):
                raise ValueError(f"outbound service name {name!r}: lowercase letters, digits, _ -")
        return value
