"""Settings: one section per concern, each with its own env prefix, composed into `Settings`.

Nothing here is instantiated at import time: `Settings.load()` reads the environment (and `.env`)
when the app factory or the CLI asks for it, and the object is passed down from there. The
sections live in `base.py`, `sections.py` and `dependencies.py`; names other templates use are
in `compat.py`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, PrivateAttr, SecretStr
from pydantic_settings import BaseSettings

from example_service.settings.base import (
    DEFAULT_DATABASE_URL,
    DEFAULT_JWT_SECRET,
    CsvList,
    Environment,
)
from example_service.settings.compat import read_environment, translate
from example_service.settings.dependencies import (
    OutboundService,
    OutboundSettings,
    ResilienceSettings,
)
from example_service.settings.sections import (
    AppSettings,
    CacheSettings,
    DatabaseSettings,
    LogSettings,
    RateLimitSettings,
    RedisSettings,
    SecuritySettings,
    ServerSettings,
    TelemetrySettings,
)
from example_service.settings.tasks import EmailSettings, TasksSettings

__all__ = [
    "DEFAULT_DATABASE_URL",
    "DEFAULT_JWT_SECRET",
    "AppSettings",
    "CacheSettings",
    "CsvList",
    "DatabaseSettings",
    # part: tasks
    "EmailSettings",
    # end part: tasks
    "Environment",
    "LogSettings",
    "OutboundService",
    "OutboundSettings",
    "RateLimitSettings",
    # part: redis
    "RedisSettings",
    # end part: redis
    "ResilienceSettings",
    "SecuritySettings",
    "ServerSettings",
    "Settings",
    "SettingsError",
    # part: tasks
    "TasksSettings",
    # end part: tasks
    "TelemetrySettings",
    "mask_url",
]


class SettingsError(ValueError):
    """Startup refused: the message names each offending variable."""


class Settings(BaseModel):
    """Every section; build with `Settings.load()` (environment) or by passing sections."""

    model_config = {"frozen": True}

    app: AppSettings = Field(default_factory=AppSettings)
    log: LogSettings = Field(default_factory=LogSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    # part: redis
    redis: RedisSettings = Field(default_factory=RedisSettings)
    # end part: redis
    cache: CacheSettings = Field(default_factory=CacheSettings)
    resilience: ResilienceSettings = Field(default_factory=ResilienceSettings)
    outbound: OutboundSettings = Field(default_factory=OutboundSettings)
    rate_limit: RateLimitSettings = Field(default_factory=RateLimitSettings)
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    # part: tasks
    tasks: TasksSettings = Field(default_factory=TasksSettings)
    email: EmailSettings = Field(default_factory=EmailSettings)
    # end part: tasks

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

    @property
    def cache_in_process(self) -> bool:
        """Whether each process keeps its own cache (no Redis behind it)."""
        # part: redis
        if self.redis.url is not None:
            return self.cache.backend == "memory"
        # end part: redis
        return True

    # part: tasks
    # part: redis
    @property
    def tasks_broker_url(self) -> str | None:
        """Where tasks are queued: TASKS_BROKER_URL, else REDIS_URL; None: in-process."""
        url = self.tasks.broker_url or self.redis.url
        return url.get_secret_value() if url is not None else None

    # end part: redis
    # end part: tasks

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
        """Raise `SettingsError` when the settings are unsafe for their environment, or name a
        backend that cannot be built."""
        unbuildable = self._unbuildable_cache()
        if unbuildable is not None:
            raise SettingsError(unbuildable)
        problems = self.security.protection_problems(list(self.outbound.services))
        if problems:
            raise SettingsError("refusing to start: " + "; ".join(problems))
        if self.app.is_production:
            problems = self.unsafe_for_production()
            if problems:
                raise SettingsError(
                    "refusing to start with unsafe production settings: " + "; ".join(problems)
                )

    def _unbuildable_cache(self) -> str | None:
        """Why CACHE_BACKEND names a backend this process cannot build, or None."""
        backend = self.cache.backend
        if not self.cache.enabled or backend in ("auto", "memory"):
            return None
        # part: redis
        if self.redis.url is not None:
            return None
        return (
            f"CACHE_BACKEND={backend} needs REDIS_URL: set it, or use CACHE_BACKEND=auto or memory"
        )
        # end part: redis
        return f"CACHE_BACKEND={backend} needs Redis, which this project leaves out: use auto"

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
