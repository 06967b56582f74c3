"""Variables under other names: the seeds' templates name some settings differently.

A deployment moving over keeps its environment working: a name with an exact equivalent here is
taken as that setting (unless ours is also set, which wins); a name whose setting works
differently here is ignored. Either way startup logs a notice naming the replacement, and a
variable under one of our prefixes that nothing reads (a typo, say) is reported too, so that
nothing is ignored silently.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dotenv import dotenv_values
from pydantic_settings import BaseSettings

# Other name -> ours: the same meaning, taken as ours.
RENAMED: dict[str, str] = {
    "APP_PROJECT_NAME": "APP_NAME",
    "APP_PROJECT_VERSION": "APP_VERSION",
    "APP_LOG_LEVEL": "LOG_LEVEL",
    "APP_LOG_FORMAT": "LOG_FORMAT",
    "APP_DATABASE_URL": "DATABASE_URL",
    "APP_DATABASE_POOL_SIZE": "DATABASE_POOL_SIZE",
    "APP_DATABASE_ECHO": "DATABASE_ECHO",
    # part: redis
    "SECURITY_REDIS_URL": "REDIS_URL",
    # end part: redis
    "SECURITY_RATE_LIMIT_ENABLED": "RATE_LIMIT_ENABLED",
    "SECURITY_RATE_LIMIT_PER_HOUR": "RATE_LIMIT_PER_HOUR",
    "SECURITY_RATE_LIMIT_BURST": "RATE_LIMIT_BURST",
    "CACHE_TTL_DEFAULT": "CACHE_DEFAULT_TTL_SECONDS",
    "SECURITY_JWT_EXPIRY_MINUTES": "SECURITY_ACCESS_TOKEN_EXPIRE_MINUTES",
    "SECURITY_CIRCUIT_BREAKER_THRESHOLD": "RESILIENCE_FAILURE_THRESHOLD",
    "SECURITY_CIRCUIT_BREAKER_TIMEOUT": "RESILIENCE_RECOVERY_SECONDS",
    "CIRCUIT_BREAKER_FAILURE_THRESHOLD": "RESILIENCE_FAILURE_THRESHOLD",
    "CIRCUIT_BREAKER_RECOVERY_TIMEOUT": "RESILIENCE_RECOVERY_SECONDS",
    # part: redis
    "REDIS_BREAKER_FAILURE_THRESHOLD": "RESILIENCE_REDIS_FAILURE_THRESHOLD",
    "REDIS_BREAKER_RESET_SECONDS": "RESILIENCE_REDIS_RECOVERY_SECONDS",
    # end part: redis
    # part: tasks
    # part: redis
    "TASK_BROKER_URL": "TASKS_BROKER_URL",
    # end part: redis
    # end part: tasks
}

# Other name -> what to do instead: no setting here means the same thing.
RETIRED: dict[str, str] = {
    "SECURITY_RATE_LIMIT_PER_MINUTE": (
        "set RATE_LIMIT_REQUESTS (per RATE_LIMIT_WINDOW_SECONDS, 60 by default)"
    ),
    # part: redis
    "SECURITY_REDIS_ENABLED": "Redis is used whenever REDIS_URL is set",
    # end part: redis
    "SECURITY_MAX_UPLOAD_SIZE": "set a limit per path prefix with SECURITY_BODY_LIMITS",
    "SECURITY_BLOCK_NULL_BYTES": "NUL bytes in URLs and bodies are always refused",
    "SECURITY_TRUST_PROXY_HEADERS": "list the proxies in SECURITY_TRUSTED_PROXIES",
    "SECURITY_ENABLE_PROMETHEUS": "set TELEMETRY_MODE=prometheus",
    "SECURITY_API_KEY_HEADER": "API keys are sent as X-API-Key",
    "SECURITY_ENABLE_CIRCUIT_BREAKER": "every dependency always has its breaker (RESILIENCE_*)",
    "APP_LOG_INCLUDE_CALLER": "log lines carry the logger name",
    # part: tasks
    "ENABLE_BACKGROUND_TASKS": "background tasks are always on (README, Background tasks)",
    # part: redis
    "TASK_RESULT_BACKEND": "results are kept in the broker's Redis (TASKS_RESULT_TTL_SECONDS)",
    # end part: redis
    # end part: tasks
}


def known_names(sections: Mapping[str, type[BaseSettings]]) -> dict[str, tuple[str, str]]:
    """Each variable the sections read -> (section, field)."""
    names: dict[str, tuple[str, str]] = {}
    for section, cls in sections.items():
        prefix = str(cls.model_config.get("env_prefix", ""))
        for field in cls.model_fields:
            names[(prefix + field).upper()] = (section, field)
    return names


def read_environment(env_file: Path = Path(".env")) -> dict[str, str]:
    """The process environment over the .env file, as the sections see it (empty = unset)."""
    values = {k: v for k, v in dotenv_values(env_file).items() if v} if env_file.is_file() else {}
    values.update((k, v) for k, v in os.environ.items() if v)
    return values


def translate(
    environ: Mapping[str, str], sections: Mapping[str, type[BaseSettings]]
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Values given under other names, per section and field; and one notice per name."""
    known = known_names(sections)
    prefixes = tuple(
        {str(cls.model_config.get("env_prefix", "")).upper() for cls in sections.values()}
    )
    overrides: dict[str, dict[str, Any]] = {}
    notices: list[str] = []
    for name in sorted(environ):
        upper = name.upper()
        if upper in known:
            continue
        if upper in RENAMED:
            ours = RENAMED[upper]
            if ours in environ:
                notices.append(f"{name} is ignored: {ours} is set and wins; remove {name}")
            else:
                section, field = known[ours]
                overrides.setdefault(section, {})[field] = environ[name]
                notices.append(f"{name} is read as {ours}; rename it")
        elif upper in RETIRED:
            notices.append(f"{name} is ignored: {RETIRED[upper]}")
        elif upper.startswith(prefixes):
            notices.append(f"{name} is not a setting of this service and is ignored")
    return overrides, notices
