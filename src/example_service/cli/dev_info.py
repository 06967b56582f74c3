"""`example-service dev info [--all]`: what is installed, what is configured, what it resolves to.

Invalid settings are reported by the CLI's error handling (cli/errors.py), one line.
"""

from __future__ import annotations

import platform
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import typer

PACKAGES = (
    "example-service",
    "fastapi",
    "pydantic",
    "sqlalchemy",
    "alembic",
    "uvicorn",
    # part: redis
    "redis",
    # end part: redis
)


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def installed() -> dict[str, str]:
    """Every distribution in this environment, by name."""
    found = {dist.metadata["Name"]: dist.version for dist in metadata.distributions()}
    return dict(sorted(found.items(), key=lambda item: item[0].lower()))


def show(*, everything: bool) -> None:
    import orjson  # noqa: PLC0415

    from example_service.cache import backend_kind  # noqa: PLC0415
    from example_service.settings import Settings  # noqa: PLC0415

    settings = Settings.load()
    redis = False
    # part: redis
    redis = settings.redis.url is not None
    # end part: redis
    backends = {
        "database": "sqlite" if settings.database.is_sqlite else "postgresql",
        # part: redis
        "redis": "configured" if redis else "none",
        # end part: redis
        "cache": backend_kind(settings.cache, redis) if settings.cache.enabled else "off",
        "rate_limit": ("redis" if redis else "memory") if settings.rate_limit.enabled else "off",
        "telemetry": settings.telemetry.mode,
    }
    paths = {"python": sys.executable, "prefix": sys.prefix, "cwd": str(Path.cwd())}
    report: dict[str, Any] = {"versions": versions(), "backends": backends, "paths": paths}
    if everything:
        report |= {
            "environment": settings.app.environment,
            "settings": settings.public_dump(),
            "notices": settings.notices,
            "installed": installed(),
        }
    typer.echo(orjson.dumps(report, option=orjson.OPT_INDENT_2, default=str).decode())
