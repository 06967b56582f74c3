"""`example-service worker | scheduler` and `example-service tasks stats | failed | retry ID`.

The worker and the scheduler need a broker (TASKS_BROKER_URL or REDIS_URL): without one, tasks
run inside the API process and there is nothing for them to do. taskiq, redis and the database
layer are imported when a command runs, not when the CLI starts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

if TYPE_CHECKING:
    from example_service.settings import Settings
    from example_service.tasks.runtime import TaskRuntime

T = TypeVar("T")

IN_PROCESS = (
    "No broker is configured (TASKS_BROKER_URL or REDIS_URL): tasks run inside each API "
    "process, which keeps its own queue and dead letters; there is nothing shared to {what} "
    "from here."
)


def _settings(stream: Any = None) -> Settings:
    import sys  # noqa: PLC0415

    from example_service.observability.logging import configure_logging  # noqa: PLC0415
    from example_service.settings import Settings  # noqa: PLC0415

    settings = Settings.load()
    if stream is None:  # a one-shot command: warnings only, on stderr (stdout is its answer)
        configure_logging(settings.log.model_copy(update={"level": "WARNING"}), sys.stderr.buffer)
    else:
        configure_logging(settings.log)
    return settings


def _needs_broker(settings: Settings, what: str) -> None:
    if settings.tasks_broker_url is None:
        typer.echo(IN_PROCESS.format(what=what), err=True)
        raise typer.Exit(code=2)


def _with_runtime(settings: Settings, use: Callable[[TaskRuntime], Awaitable[T]]) -> T:
    import asyncio  # noqa: PLC0415
    from contextlib import AsyncExitStack  # noqa: PLC0415

    from example_service.db.engine import create_engine, create_session_factory  # noqa: PLC0415
    from example_service.tasks.broker import build_runtime  # noqa: PLC0415
    from example_service.tasks.registry import load_task_modules  # noqa: PLC0415

    async def run() -> T:
        load_task_modules(settings.tasks.modules)
        async with AsyncExitStack() as stack:
            engine = create_engine(settings.database)
            stack.push_async_callback(engine.dispose)
            runtime = await build_runtime(settings, create_session_factory(engine), stack)
            return await use(runtime)

    with _unreachable():
        return asyncio.run(run())


@contextmanager
def _unreachable() -> Iterator[None]:
    """A broker that does not answer: one line saying so and exit 1, not a traceback."""
    from redis.exceptions import RedisError  # noqa: PLC0415 - a broker URL is set

    from example_service.resilience.errors import BackendUnavailable  # noqa: PLC0415
    from example_service.tasks.runtime import TasksUnavailableError  # noqa: PLC0415

    try:
        yield
    except (RedisError, BackendUnavailable, TasksUnavailableError, OSError) as exc:
        typer.echo(f"error: the broker did not answer: {exc}", err=True)
        raise typer.Exit(code=1) from exc


def register(cli: typer.Typer) -> None:
    @cli.command()
    def worker() -> None:
        """Run tasks from the broker until SIGTERM (finishes the running ones first)."""
        import asyncio  # noqa: PLC0415

        settings = _settings(stream=True)
        _needs_broker(settings, "run")
        from example_service.tasks.worker import run_worker  # noqa: PLC0415

        with _unreachable():
            asyncio.run(run_worker(settings))

    @cli.command()
    def scheduler() -> None:
        """Send periodic tasks when they are due (run one per deployment)."""
        import asyncio  # noqa: PLC0415

        settings = _settings(stream=True)
        _needs_broker(settings, "schedule")
        from example_service.tasks.scheduler import run_scheduler  # noqa: PLC0415

        with _unreachable():
            asyncio.run(run_scheduler(settings))


def build() -> typer.Typer:
    group = typer.Typer(help="Inspect the task queue and its dead letters.", no_args_is_help=True)

    @group.command("stats")
    def stats() -> None:
        """Print queued, running, failed (dead letters) and done tasks as JSON."""
        import orjson  # noqa: PLC0415

        settings = _settings()
        _needs_broker(settings, "inspect")

        async def read(runtime: TaskRuntime) -> dict[str, int]:
            return await runtime.stats()

        typer.echo(orjson.dumps(_with_runtime(settings, read), option=orjson.OPT_INDENT_2).decode())

    @group.command("failed")
    def failed(
        limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
    ) -> None:
        """List dead letters: tasks that failed every attempt (one JSON object a line)."""
        settings = _settings()
        _needs_broker(settings, "list")

        async def read(runtime: TaskRuntime) -> list[str]:
            return [letter.model_dump_json() for letter in await runtime.dead_letters.list(limit)]

        for line in _with_runtime(settings, read):
            typer.echo(line)

    @group.command("retry")
    def retry(
        letter_id: Annotated[str, typer.Argument(help="The id `tasks failed` shows.")],
    ) -> None:
        """Send a dead-lettered task again (with its arguments and idempotency key)."""
        settings = _settings()
        _needs_broker(settings, "retry")

        async def requeue(runtime: TaskRuntime) -> str | None:
            letter = await runtime.dead_letters.pop(letter_id)
            if letter is None:
                return None
            try:
                return await runtime.requeue(letter)
            except Exception:
                await runtime.dead_letters.add(letter)  # not sent: keep it
                raise

        sent = _with_runtime(settings, requeue)
        if sent is None:
            typer.echo(f"error: no dead letter {letter_id!r}", err=True)
            raise typer.Exit(code=1)
        typer.echo(f"requeued {letter_id} as {sent}")

    return group
