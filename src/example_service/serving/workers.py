"""What several worker processes cannot do: refused by `serve --workers N` and by gunicorn."""

from __future__ import annotations

from example_service.settings import Settings


def refusal(settings: Settings, workers: int) -> str | None:
    """Why `settings` cannot be served by `workers` processes, or None."""
    if workers > 1 and settings.telemetry.metrics_port is not None:
        # Each worker has its own registry and only one can bind the port.
        return (
            "TELEMETRY_METRICS_PORT serves one process's metrics: use --workers 1 "
            "per process (scale with more processes or replicas)"
        )
    if (
        workers > 1
        and settings.cache.enabled
        and settings.cache.auth == "on"
        and settings.cache_in_process
    ):
        # A logout or a deactivation would reach only the worker that served it: the
        # others would keep accepting the revoked credential until their entry expires.
        return (
            "CACHE_AUTH=on with an in-process cache serves one process only: use "
            "--workers 1, or CACHE_AUTH=auto (a shared cache, REDIS_URL) or off"
        )
    return None
