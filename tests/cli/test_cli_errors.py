"""Errors from the CLI are one clear line and a non-zero exit, never a traceback: every command
that reads the settings is run with an invalid one; an unexpected error names its type. And every
command and option has its help; shell completion is typer's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from example_service.cli import build_cli

BAD_POOL = "error: invalid settings: DATABASE_POOL_SIZE: Input should be a valid integer"
PASSWORD = "a-password-long-enough-42"
# Each command that loads the settings, with what it needs to get that far.
READS_SETTINGS: dict[str, list[str]] = {
    "serve": [],
    "config show": [],
    "db upgrade": [],
    "db downgrade": [],
    "db current": [],
    "db seed": ["--password", PASSWORD],
    "users create-admin": ["--email", "admin@example.com", "--password", PASSWORD],
    "users list": [],
    # part: redis
    "cache stats": [],
    "cache clear": [],
    "security bans list": [],
    "security bans unban": ["192.0.2.1"],
    # end part: redis
    "monitor prometheus-config": [],
    "monitor metrics": [],
    "dev info": [],
    # part: tasks
    # part: redis
    "worker": [],
    "scheduler": [],
    "tasks stats": [],
    "tasks failed": [],
    "tasks retry": ["1"],
    # end part: redis
    # end part: tasks
}
# The others: they report their settings problems their own way (config check lists every
# problem), in a child process (dev serve), or read none (their own tests cover their errors;
# db revision writes a script into the package's migrations without reading any).
OTHERS = {
    "config check",
    "db revision",
    "dev serve",
    "health",
    *(f"generate {name}" for name in ("resource", "router", "middleware", "migration")),
    *(f"dev {name}" for name in ("lint", "format", "typecheck", "test", "quality", "run")),
    *(f"dev {name}" for name in ("clean", "deps")),
}


def leaf_commands() -> set[str]:
    found: set[str] = set()

    def walk(command: object, path: list[str]) -> None:
        children = getattr(command, "commands", None)
        if children is None:
            found.add(" ".join(path))
            return
        for name, child in children.items():
            walk(child, [*path, name])

    walk(typer.main.get_command(build_cli()), [])
    return found


def test_every_command_is_classified() -> None:
    assert leaf_commands() == set(READS_SETTINGS) | OTHERS


@pytest.mark.parametrize("command", READS_SETTINGS)
def test_invalid_settings_are_one_line(command: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_POOL_SIZE", "many")
    result = CliRunner().invoke(build_cli(), [*command.split(), *READS_SETTINGS[command]])
    assert result.exit_code == 2
    assert isinstance(result.exception, SystemExit)
    assert result.stderr.startswith(BAD_POOL)
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("APP_ENVIRONMENT", "moon", "error: invalid settings: APP_ENVIRONMENT: Input should be"),
        (
            "APP_CORS_ALLOW_ORIGINS",
            "[not json",
            "error: invalid settings: APP_CORS_ALLOW_ORIGINS: ",
        ),
    ],
)
def test_other_invalid_values(
    variable: str, value: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(variable, value)
    result = CliRunner().invoke(build_cli(), ["config", "show"])
    assert result.exit_code == 2
    assert result.stderr.startswith(message)
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("argv", [["config", "show"], ["dev", "serve", "--no-reload"]])
def test_the_installed_command_prints_no_traceback(argv: list[str]) -> None:
    env = {"DATABASE_POOL_SIZE": "many", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "example_service", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith(BAD_POOL)
    assert len(result.stderr.splitlines()) == 1
    assert result.stdout == ""


def test_an_unexpected_error_names_its_type(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> None:
        raise OSError("the disk\nwent away")

    monkeypatch.setattr("example_service.settings.Settings.load", broken)
    result = CliRunner().invoke(build_cli(), ["config", "show"])
    assert result.exit_code == 1
    assert result.stderr == "error: OSError: the disk went away\n"
    monkeypatch.setenv("CLI_TRACEBACK", "1")  # for debugging the CLI itself
    assert isinstance(CliRunner().invoke(build_cli(), ["config", "show"]).exception, OSError)


def test_usage_errors_stay_clicks() -> None:
    result = CliRunner().invoke(build_cli(), ["config", "nope"])
    assert result.exit_code == 2
    assert "No such command 'nope'" in result.stderr
    assert "Traceback" not in result.output


def test_every_command_and_option_has_help() -> None:
    missing: list[str] = []

    def walk(command: Any, path: list[str]) -> None:
        if not command.help:
            missing.append(" ".join(path) or "the root")
        missing.extend(
            f"{' '.join(path)} {param.name}" for param in command.params if not param.help
        )
        for name, child in getattr(command, "commands", {}).items():
            walk(child, [*path, name])

    walk(typer.main.get_command(build_cli()), [])
    assert missing == []


@pytest.mark.parametrize(
    ("words", "expected"),
    [("example-service ge", "generate"), ("example-service dev lint --w", "--watch")],
)
def test_shell_completion_from_typer(words: str, expected: str) -> None:
    # What the script `--show-completion bash` prints asks the command itself, so.
    program = "example-service"  # renamed in a project made from this one, as the variable
    env = {
        f"_{program.replace('-', '_').upper()}_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - 1),
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [str(Path(sys.executable).parent / program)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [expected]


def test_the_click_context_the_root_group_types_with_is_typer_s() -> None:
    # cli/errors.py names typer's vendored click (a private module) for its annotations: if it
    # moves, this fails here rather than only in mypy.
    from typer._click.core import Context  # noqa: PLC0415

    assert issubclass(typer.Context, Context)
