"""The sections of the service's own concerns, each with its env prefix."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import (
    Field,
    SecretStr,
    field_validator,
)

from example_service.settings.base import (
    DEFAULT_DATABASE_URL,
    DEFAULT_JWT_SECRET,
    CsvList,
    Environment,
    _Section,
    _section,
)
from example_service.settings.protection import ProtectionSettings


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
    # Request and response logging, masked (middleware/request_logging.py): off by default, the
    # layer is then not installed. Bodies over the cap are not logged at all.
    requests: bool = False
    request_body_max_bytes: int = Field(default=10_240, ge=0, le=1_048_576)
    request_exempt_paths: CsvList = Field(
        default_factory=lambda: ["/health", "/api/v1/health", "/metrics", "/docs", "/redoc"]
    )
    # Extra field names whose values are always masked, and regexes whose matches are.
    mask_fields: CsvList = Field(default_factory=list)
    mask_patterns: CsvList = Field(default_factory=list)
    # A request slower than this is logged (`http.slow_request`) and counted; 0 turns it off.
    slow_request_seconds: float = Field(default=1.0, ge=0)

    @field_validator("mask_patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"LOG_MASK_PATTERNS: {pattern!r} is not a regex: {exc}") from exc
        return patterns


class DatabaseSettings(_Section):
    model_config = _section("DATABASE_")

    url: SecretStr = SecretStr(DEFAULT_DATABASE_URL)
    # A fixed pool by default: an overflow connection is closed as soon as it is returned to a
    # full pool, so under sustained load overflow means a new connection (connect, type
    # introspection, statements prepared again) every few requests; measured with one worker
    # under 32 concurrent reads, 5 + 10 overflow served half the requests 10 + 0 did.
    pool_size: int = Field(default=10, ge=1)
    max_overflow: int = Field(default=0, ge=0)
    # A request waits at most this long for a pooled connection (then 503).
    pool_timeout_seconds: float = Field(default=5.0, gt=0)
    # PostgreSQL: opening a connection, and any one statement (server side), at most this long.
    connect_timeout_seconds: float = Field(default=3.0, gt=0)
    statement_timeout_seconds: float = Field(default=30.0, gt=0)
    # A statement slower than this is logged (`db.slow_query`, its SQL without the values) and
    # counted; 0 turns it off.
    slow_query_seconds: float = Field(default=0.5, ge=0)
    echo: bool = False

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_secret_value().startswith("sqlite")


# part: redis
class RedisSettings(_Section):
    model_config = _section("REDIS_")

    url: SecretStr | None = None
    connect_timeout_seconds: float = Field(default=0.25, gt=0)
    timeout_seconds: float = Field(default=0.25, gt=0)
    max_connections: int = Field(default=50, ge=1)


# end part: redis


class CacheSettings(_Section):
    model_config = _section("CACHE_")

    enabled: bool = True
    # Time to live of an entry whose namespace names none.
    default_ttl_seconds: int = Field(default=300, ge=1)
    prefix: str = "cache:"
    # part: redis
    # auto: two-level (Redis with an in-process near cache) when REDIS_URL is set, else memory.
    # redis and two-level need REDIS_URL (Settings.check refuses them without it).
    # end part: redis
    backend: Literal["auto", "memory", "redis", "two-level"] = "auto"
    # Two-level: an entry stays in a process's near cache at most this long. Invalidations
    # reach every process through Redis pub/sub, which is at-most-once: this is how long a
    # lost one can leave a process serving a stale entry.
    near_ttl_seconds: float = Field(default=5.0, gt=0)
    # The in-process cache (and the near cache of two-level): at most this many entries and
    # bytes, least recently used out first.
    max_entries: int = Field(default=10_000, ge=1)
    max_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    # Who a bearer token or API key is, remembered so that a repeat credential costs no database
    # round trip (auth/cache.py). auto: on when the backend is shared by every process (Redis),
    # off with the in-process backend, whose entries other processes cannot invalidate; on: also
    # in-process, for a deployment that runs exactly one process.
    auth: Literal["auto", "on", "off"] = "auto"
    # The longest a revocation can go unseen when the cache could not be told of it (Redis
    # unreachable at that moment, or another process's in-process cache with CACHE_AUTH=on).
    auth_ttl_seconds: int = Field(default=30, ge=1, le=300)


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


class SecuritySettings(ProtectionSettings):
    """SECURITY_: tokens, passwords, request limits, headers, proxies; and edge protection
    (geo blocking, bans, alerting: settings/protection.py)."""

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
    # Worker processes: `serve` without --workers, and gunicorn (deploy/gunicorn.conf.py).
    workers: int = Field(default=1, ge=1)
