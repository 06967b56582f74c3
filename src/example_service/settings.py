"""Settings: one section per concern, each with its own env prefix, composed into `Settings`.

Nothing here is instantiated at import time: `Settings.load()` reads the environment (and `.env`)
when the app factory or the CLI asks for it, and the object is passed down from there.
"""

from __future__ import annotations

import ipaddress
import json
import re
from enum import StrEnum
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from example_service.settings_compat import read_environment, translate

DEFAULT_JWT_SECRET = "change-me-this-is-not-a-secret"  # noqa: S105 - a placeholder refused in production
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/app.db"


class Environment(StrEnum):
    LOCAL = "local"
    TEST = "test"
    STAGING = "staging"
    PRODUCTION = "production"


def _split_csv(value: Any) -> Any:
    """Accept `a,b` as well as a JSON list (or object) for list-valued variables."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith(("[", "{")):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


CsvList = Annotated[list[str], NoDecode]


def _section(prefix: str) -> SettingsConfigDict:
    # Empty values (`REDIS_URL=`) mean "the default", as .env.example writes them.
    return SettingsConfigDict(
        env_prefix=prefix,
        env_file=".env",
        extra="ignore",
        validate_default=True,
        env_ignore_empty=True,
    )


class _Section(BaseSettings):
    @model_validator(mode="before")
    @classmethod
    def _csv_lists(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, field in cls.model_fields.items():
                if NoDecode in field.metadata and name in data:
                    data[name] = _split_csv(data[name])
        return data


class AppSettings(_Section):
    model_config = _section("APP_")

    name: str = "example-service"
    version: str = "0.1.0"
    environment: Environment = Environment.LOCAL
    # Development aid: 500 problem bodies carry the exception and its last frames (`debug`).
    # Refused in production.
    debug: bool = False
    api_prefix: str = "/api/v1"
    cors_allow_origins: CsvList = Field(default_factory=list)
    cors_allow_credentials: bool = False
    allowed_hosts: CsvList = Field(default_factory=lambda: ["*"])
    error_format: Literal["problem", "envelope"] = "problem"
    error_type_base: str = "/problems/"
    docs_enabled: bool | None = None  # None: on outside production

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    @property
    def docs_on(self) -> bool:
        return self.docs_enabled if self.docs_enabled is not None else not self.is_production


class LogSettings(_Section):
    model_config = _section("LOG_")

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    format: Literal["json", "console"] = "json"
    access_log: bool = True


class DatabaseSettings(_Section):
    model_config = _section("DATABASE_")

    url: SecretStr = SecretStr(DEFAULT_DATABASE_URL)
    pool_size: int = Field(default=5, ge=1)
    max_overflow: int = Field(default=10, ge=0)
    # A request waits at most this long for a pooled connection (then 503).
    pool_timeout_seconds: float = Field(default=5.0, gt=0)
    # PostgreSQL: opening a connection, and any one statement (server side), at most this long.
    connect_timeout_seconds: float = Field(default=3.0, gt=0)
    statement_timeout_seconds: float = Field(default=30.0, gt=0)
    echo: bool = False

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_secret_value().startswith("sqlite")


class RedisSettings(_Section):
    model_config = _section("REDIS_")

    url: SecretStr | None = None
    connect_timeout_seconds: float = Field(default=0.25, gt=0)
    timeout_seconds: float = Field(default=0.25, gt=0)
    max_connections: int = Field(default=50, ge=1)


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
    redis_failure_threshold: int | None = Field(default=3, ge=1)
    redis_recovery_seconds: float | None = Field(default=5.0, gt=0)
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


class RateLimitSettings(_Section):
    model_config = _section("RATE_LIMIT_")

    enabled: bool = True
    requests: int = Field(default=60, ge=1)
    window_seconds: int = Field(default=60, ge=1)
    per_hour: int = Field(default=1000, ge=1)
    burst: int = Field(default=10, ge=0)
    algorithm: Literal["fixed_window", "sliding_window", "token_bucket"] = "sliding_window"
    key_strategy: Literal["ip", "user_or_ip", "api_key"] = "ip"
    prefix: str = "rl:"
    # Login limits count failed password checks per login window (see ratelimit/login.py):
    # per account from one client address (strict: the brute-force limit), per account from
    # all addresses and per address across accounts (looser ceilings against distributed
    # guessing and spraying). An address the account logged in from within
    # `login_known_address_days` is held to the first only, so others' failures cannot lock
    # the owner out; 0 turns that exemption off.
    login_per_account: int = Field(default=5, ge=1)
    login_per_account_global: int = Field(default=50, ge=1)
    login_per_client: int = Field(default=20, ge=1)
    login_window_seconds: int = Field(default=900, ge=1)
    login_known_address_days: int = Field(default=30, ge=0)


class TelemetrySettings(_Section):
    model_config = _section("TELEMETRY_")

    mode: Literal["noop", "log", "prometheus"] = "noop"
    sample_rate: float = Field(default=1.0, ge=0.0, le=1.0)
    # FastAPI's native OpenTelemetry (spans, metrics and logs through the global providers).
    # Off unless asked for: even with no provider configured, deciding so costs ~3.7 us per
    # request (three environment lookups that each raise and catch a KeyError, measured).
    otel: bool = False
    # Where Prometheus scrapes (mode prometheus). By default /metrics on the API port, for
    # anyone who can reach it; production requires one of these three to say otherwise:
    metrics_port: int | None = Field(default=None, ge=1, le=65535)  # a listener of its own
    metrics_host: str = "0.0.0.0"  # noqa: S104 - the scraper reaches the pod or host over its network
    metrics_token: SecretStr | None = None  # /metrics on the API port asks for this bearer token
    metrics_public: bool = False  # /metrics on the API port, open: an explicit choice


class SecuritySettings(_Section):
    model_config = _section("SECURITY_")

    jwt_secret: SecretStr = SecretStr(DEFAULT_JWT_SECRET)
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    jwt_issuer: str = "example-service"
    jwt_audience: str = "example-service"
    access_token_expire_minutes: int = Field(default=15, ge=1)
    refresh_token_expire_days: int = Field(default=7, ge=1)
    # argon2id cost; the defaults follow the library (RFC 9106's second recommendation).
    password_hash_time_cost: int = Field(default=3, ge=1)
    password_hash_memory_kib: int = Field(default=65536, ge=1024)
    # New passwords: at least this many characters (ASVS V6.2.1: 8 or more; 15 recommended
    # where passwords are the only factor), at most 128.
    password_min_length: int = Field(default=8, ge=8, le=128)
    max_request_size: int = Field(default=1_048_576, ge=1)
    body_limits: CsvList = Field(default_factory=list)  # "prefix=bytes", longest prefix wins
    allowed_content_types: CsvList = Field(
        default_factory=lambda: [
            "application/json",
            "application/*+json",
            "multipart/form-data",
            "application/x-www-form-urlencoded",
        ]
    )
    max_json_depth: int = Field(default=64, ge=1)
    max_header_count: int = Field(default=100, ge=1)
    max_header_bytes: int = Field(default=8192, ge=64)
    enable_hsts: bool = True
    hsts_max_age_seconds: int = Field(default=63_072_000, ge=0)
    enable_csp: bool = True
    csp_policy: str = "default-src 'none'; frame-ancestors 'none'"
    # Browser features a JSON API never uses. Kept short on purpose: the server validates every
    # response header byte by byte, so a long value costs on every response (measured).
    permissions_policy: str = "camera=(), geolocation=(), microphone=(), payment=(), usb=()"
    trusted_proxies: CsvList = Field(default_factory=list)
    health_timeout_seconds: float = Field(default=2.0, gt=0)

    @field_validator("body_limits")
    @classmethod
    def _check_body_limits(cls, value: list[str]) -> list[str]:
        for item in value:
            prefix, sep, size = item.partition("=")
            if not sep or not prefix.startswith("/") or not size.strip().isdigit():
                raise ValueError(f"body limit {item!r} is not '/prefix=bytes'")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        for item in value:
            ipaddress.ip_network(item, strict=False)  # ValueError names the bad entry
        return value

    @property
    def body_limit_map(self) -> dict[str, int]:
        """Path prefix -> body size limit in bytes."""
        out: dict[str, int] = {}
        for item in self.body_limits:
            prefix, _, size = item.partition("=")
            out[prefix.strip()] = int(size)
        return out


class ServerSettings(_Section):
    """Deadlines `serve` holds clients and itself to (see README, Serving)."""

    model_config = _section("SERVER_")

    # The whole request head (line and headers), from the connection or its first byte.
    header_timeout_seconds: float = Field(default=10.0, gt=0)
    # The longest wait for the next part of a request body.
    body_timeout_seconds: float = Field(default=30.0, gt=0)
    keep_alive_seconds: int = Field(default=5, ge=1)
    # After SIGTERM: then open connections are closed and unfinished requests cancelled.
    graceful_shutdown_seconds: int = Field(default=30, ge=1)
    # How long the supervisor of several workers waits for one to answer (or to start).
    worker_healthcheck_seconds: int = Field(default=5, ge=1)


class SettingsError(ValueError):
    """Startup refused: the message names each offending variable."""


class Settings(BaseModel):
    """Every section; build with `Settings.load()` (environment) or by passing sections."""

    model_config = {"frozen": True}

    app: AppSettings = Field(default_factory=AppSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    resilience: ResilienceSettings = Field(default_factory=ResilienceSettings)
    outbound: OutboundSettings = Field(default_factory=OutboundSettings)
    rate_limit: RateLimitSettings = Field(default_factory=RateLimitSettings)
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    server: ServerSettings = Field(default_factory=ServerSettings)

    _notices: list[str] = PrivateAttr(default_factory=list)

    @classmethod
    def load(cls) -> Settings:
        """Settings from the environment and `.env`, other templates' names included."""
        sections: dict[str, type[BaseSettings]] = {
            name: field.annotation  # type: ignore[misc]  # every field is a section class
            for name, field in cls.model_fields.items()
        }
        overrides, notices = translate(read_environment(), sections)
        settings = cls(
            **{name: section(**overrides.get(name, {})) for name, section in sections.items()}
        )
        settings._notices = notices
        return settings

    @property
    def notices(self) -> list[str]:
        """What loading found worth saying: variables under other names, unknown ones."""
        return list(self._notices)

    def unsafe_for_production(self) -> list[str]:
        """What production refuses, one message per variable."""
        problems: list[str] = []
        if self.security.jwt_secret.get_secret_value() == DEFAULT_JWT_SECRET:
            problems.append("SECURITY_JWT_SECRET is the default placeholder; set a random secret")
        elif len(self.security.jwt_secret.get_secret_value()) < 32:
            problems.append("SECURITY_JWT_SECRET must be at least 32 characters")
        if self.app.debug:
            problems.append("APP_DEBUG must be false")
        telemetry = self.telemetry
        if (
            telemetry.mode == "prometheus"
            and telemetry.metrics_port is None
            and telemetry.metrics_token is None
            and not telemetry.metrics_public
        ):
            problems.append(
                "TELEMETRY_MODE=prometheus would serve /metrics to anyone on the API port: set "
                "TELEMETRY_METRICS_PORT (a listener of its own) or TELEMETRY_METRICS_TOKEN, or "
                "TELEMETRY_METRICS_PUBLIC=true to allow it"
            )
        if "*" in self.app.cors_allow_origins and self.app.cors_allow_credentials:
            problems.append(
                "APP_CORS_ALLOW_ORIGINS may not contain '*' while "
                "APP_CORS_ALLOW_CREDENTIALS is true"
            )
        return problems

    def check(self) -> None:
        """Raise `SettingsError` when the settings are unsafe for their environment."""
        if self.app.is_production:
            problems = self.unsafe_for_production()
            if problems:
                raise SettingsError(
                    "refusing to start with unsafe production settings: " + "; ".join(problems)
                )

    def public_dump(self) -> dict[str, dict[str, Any]]:
        """All settings by section, secrets masked (for `config show`)."""
        out: dict[str, dict[str, Any]] = {}
        for name in type(self).model_fields:
            section: BaseSettings = getattr(self, name)
            values: dict[str, Any] = {}
            for key, value in section.model_dump(mode="python").items():
                values[key] = _mask(value)
            out[name] = values
        return out


def _mask(value: Any) -> Any:
    if isinstance(value, SecretStr):
        secret = value.get_secret_value()
        return mask_url(secret) if "://" in secret else "**********"
    if isinstance(value, StrEnum):
        return value.value
    return value


def mask_url(url: str) -> str:
    """Hide the password of a URL such as postgresql://user:pw@host/db."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else url
