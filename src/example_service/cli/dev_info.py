"""`example-service dev info`: what is installed, what is configured, what it resolves to."""

from __future__ import annotations

import platform
from importlib import metadata

import typer

PACKAGES = ("example-service", "fastapi", "pydantic", "sqlalchemy", "alembic", "uvicorn", "redis")


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def show() -> None:
    import orjson  # noqa: PLC0415
    from pydantic import ValidationError  # noqa: PLC0415

    from example_service.cache import backend_kind  # noqa: PLC0415
    from example_service.settings import Settings  # noqa: PLC0415

    try:
        settings = Settings.load()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in exc.errors()
        )
        typer.echo(f"error: invalid settings: {problems}", err=True)
        raise typer.Exit(2) from None
    redis = settings.redis.url is not None
    backends = {
        "database": "sqlite" if settings.database.is_sqlite else "postgresql",
        "redis": "configured" if redis else "none",
        "cache": backend_kind(settings.cache, redis) if settings.cache.enabled else "off",
        "rate_limit": ("redis" if redis else "memory") if settings.rate_limit.enabled else "off",
        "telemetry": settings.telemetry.mode,
    }
    report = {"versions": versions(), "backends": backends, "settings": settings.public_dump()}
    typer.echo(orjson.dumps(report, option=orjson.OPT_INDENT_2, default=str).decode())
