"""Errors from the command line are one clear line on stderr and a non-zero exit, never a
traceback: invalid settings name the variable, a refused start says why, anything else gives its
type and message. `CLI_TRACEBACK=1` lets the traceback through, for debugging the CLI itself.

The root group catches them (`ClearErrors`), so every command and group gets this alike; it
also starts the interactive mode when run with no arguments in a terminal.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

if TYPE_CHECKING:
    from pydantic import ValidationError
    from typer._click.core import Context  # typer's own click, which TyperGroup takes

SETTINGS_EXIT = 2  # as `serve` refusing unsafe settings
OTHER_EXIT = 1


def validation_problems(exc: ValidationError) -> str:
    """`invalid settings: DATABASE_POOL_SIZE: Input should be a valid integer; ...`."""
    what = "settings" if _env_prefix(exc.title) is not None else exc.title
    return f"invalid {what}: {'; '.join(each_problem(exc))}"


def each_problem(exc: ValidationError) -> list[str]:
    """For a settings section, each error under the environment variable that sets it (the
    section's prefix and the field), as the user wrote it; for another model, its field."""
    prefix = _env_prefix(exc.title)
    problems = []
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        given = error.get("input")
        if not loc and isinstance(given, dict) and len(given) == 1:
            loc = [str(next(iter(given)))]  # a section-wide check of the one value given
        if prefix is not None:
            loc = [f"{prefix}{loc[0]}".upper(), *loc[1:]] if loc else [f"{prefix.upper()}*"]
        problems.append(f"{'.'.join(loc)}: {error['msg']}" if loc else str(error["msg"]))
    return problems


def _env_prefix(title: str) -> str | None:
    """The environment prefix of the settings section named `title`; None: not a section."""
    from example_service.settings import Settings  # noqa: PLC0415 - only when one failed

    for field in Settings.model_fields.values():
        section: Any = field.annotation
        if getattr(section, "__name__", None) == title:
            return str(section.model_config.get("env_prefix", ""))
    return None


def one_line(exc: Exception) -> tuple[str, int]:
    """The message and exit code for an error no command handled itself."""
    from pydantic import ValidationError  # noqa: PLC0415
    from pydantic_settings import SettingsError as SourceError  # noqa: PLC0415

    from example_service.settings import SettingsError  # noqa: PLC0415

    if isinstance(exc, ValidationError):
        return validation_problems(exc), SETTINGS_EXIT
    if isinstance(exc, SourceError):  # a value that is not the JSON its field needs
        return f"invalid settings: {exc}", SETTINGS_EXIT
    if isinstance(exc, SettingsError):
        return str(exc), SETTINGS_EXIT
    detail = " ".join(str(exc).split())  # one line, whatever the message held
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__, OTHER_EXIT


class ClearErrors(TyperGroup):
    """The root group: what a command raises (other than exits and usage errors, which
    typer reports itself) becomes `error: ...` and an exit code."""

    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        """No arguments in a terminal: ask for them (cli/interactive.py)."""
        from example_service.cli import interactive  # noqa: PLC0415

        if not args and not ctx.resilient_parsing and interactive.is_terminal():
            args = interactive.ask(self)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):  # click's own: usage errors
            raise
        except Exception as exc:  # the point: no traceback reaches the user
            if os.environ.get("CLI_TRACEBACK") == "1":
                raise
            message, code = one_line(exc)
            typer.echo(f"error: {message}", err=True)
            raise typer.Exit(code) from None
