"""`example-service cache stats | clear [--prefix P]`: the shared cache, from any machine that
has the service's settings.

With Redis (CACHE_BACKEND redis or two-level, or auto with REDIS_URL) these read and delete the
real keys under CACHE_PREFIX; `clear` also tells running two-level processes to empty their near
caches. The in-process cache lives inside each server process: there is nothing shared to
inspect or clear from another one. Redis and the cache modules are imported when a command
runs, not when the CLI starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from example_service.settings import Settings

IN_PROCESS = (
    "The cache is in-process (CACHE_BACKEND={backend}): each server process keeps its own, in "
    "its memory, and nothing is shared to {action} from here. Its entries end with their TTL "
    "or when the process restarts; set REDIS_URL for a cache all processes share."
)


def _settings() -> Settings:
    # Not `Settings.check()`: what production refuses to serve with (a JWT secret, say) does
    # not concern the cache, and an operator's shell need not carry it.
    from example_service.settings import Settings  # noqa: PLC0415

    return Settings.load()


def _shared(settings: Settings, action: str) -> bool:
    """Whether the configured cache is shared (Redis); says why not otherwise."""
    from example_service.cache import backend_kind  # noqa: PLC0415

    if not settings.cache.enabled:
        typer.echo("The cache is off (CACHE_ENABLED=false).")
        return False
    kind = backend_kind(settings.cache, settings.redis.url is not None)
    if kind == "memory":
        typer.echo(IN_PROCESS.format(backend=settings.cache.backend, action=action))
        return False
    if settings.redis.url is None:
        typer.echo(f"error: CACHE_BACKEND={kind} needs REDIS_URL", err=True)
        raise typer.Exit(code=2)
    return True


def _run(settings: Settings, operation: str, prefix: str = "") -> Any:
    """`operation` on the configured backend, over a Redis layer of this command's own."""
    import asyncio  # noqa: PLC0415
    import sys  # noqa: PLC0415

    from example_service.cache.shared import build_shared_cache  # noqa: PLC0415
    from example_service.observability.logging import configure_logging  # noqa: PLC0415
    from example_service.redis.client import create_redis  # noqa: PLC0415
    from example_service.resilience.errors import BackendUnavailable  # noqa: PLC0415

    # Warnings only, and on stderr: stdout is the command's answer.
    configure_logging(settings.log.model_copy(update={"level": "WARNING"}), sys.stderr.buffer)

    async def run() -> Any:
        layer = create_redis(settings.redis)
        # _shared said so: REDIS_URL is set and the cache on.
        assert layer is not None  # noqa: S101
        cache = build_shared_cache(settings.cache, layer)
        assert cache is not None  # noqa: S101
        try:
            if operation == "stats":
                # Two-level: Redis's figures only; this command's own near cache and
                # subscriber (never started) say nothing about the servers'.
                return {**await cache.shared.stats(), "backend": cache.backend.kind}
            return await cache.backend.clear(settings.cache.prefix + prefix)
        finally:
            await layer.aclose()

    try:
        return asyncio.run(run())
    except BackendUnavailable as exc:
        typer.echo(f"error: the cache's Redis did not answer: {exc}", err=True)
        raise typer.Exit(code=1) from exc


def build() -> typer.Typer:
    group = typer.Typer(help="Inspect or empty the shared cache (Redis).", no_args_is_help=True)

    @group.command("stats")
    def stats() -> None:
        """Print the cache's figures as JSON: keys under CACHE_PREFIX, Redis memory."""
        settings = _settings()
        if _shared(settings, "inspect"):
            import orjson  # noqa: PLC0415

            figures = _run(settings, "stats")
            typer.echo(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())

    @group.command("clear")
    def clear(
        prefix: Annotated[
            str,
            typer.Option(help="Only keys under CACHE_PREFIX + this, e.g. a namespace: 'users.'"),
        ] = "",
    ) -> None:
        """Delete the cache's keys (all under CACHE_PREFIX, or under --prefix within it)."""
        settings = _settings()
        if not settings.cache.prefix:
            typer.echo("error: CACHE_PREFIX is empty: refusing to clear every key", err=True)
            raise typer.Exit(code=2)
        if _shared(settings, "clear"):
            deleted = _run(settings, "clear", prefix)
            typer.echo(f"deleted {deleted} keys under {settings.cache.prefix + prefix!r}")

    return group
