"""`example-service dev ...`: the development tools behind one command, run from the project
root. Each is a thin wrapper that exits with its tool's own exit code.

The tools come from this interpreter's virtualenv (`uv sync` installs them), else from PATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from example_service.cli import dev_info, dev_watch

# What the linters and formatter cover, as in the Makefile; those missing are left out.
CODE_PATHS = ("src", "tests", "bench", "scripts")
CACHES = (".pytest_cache", ".mypy_cache", ".ruff_cache", "htmlcov", ".coverage")
NOT_FOUND = 127  # what a shell answers for a missing command


def tool(name: str) -> str:
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.is_file() else shutil.which(name)
    if name == "uv":  # the Makefile's UV first; last, where `make install` puts it
        local = Path(".tools/bin/uv")
        found = os.environ.get("UV") or found or (str(local.resolve()) if local.is_file() else None)
    if found is None:
        hint = (
            "set UV or put it on PATH (`make install`)"
            if name == "uv"
            else "install the dev dependencies (uv sync)"
        )
        typer.echo(f"error: {name} not found: {hint}", err=True)
        raise typer.Exit(NOT_FOUND)
    return found


def call(name: str, *args: str) -> int:
    """Run tool `name`, its output straight to the terminal; its exit code."""
    return subprocess.run([tool(name), *args], check=False).returncode  # noqa: S603


def code_paths() -> list[str]:
    return [path for path in CODE_PATHS if Path(path).exists()]


def lint(
    fix: Annotated[bool, typer.Option(help="Apply ruff's safe fixes.")] = False,
    watch: Annotated[
        bool, typer.Option(help="Run again on every change until Ctrl-C (polls twice a second).")
    ] = False,
) -> None:
    """ruff check over src, tests, bench and scripts."""
    paths = code_paths()

    def once() -> int:
        return call("ruff", "check", *(["--fix"] if fix else []), *paths)

    raise typer.Exit(dev_watch.watch(paths, once) if watch else once())


def format_(
    check: Annotated[bool, typer.Option(help="Only report what would change.")] = False,
) -> None:
    """ruff format over src, tests, bench and scripts."""
    raise typer.Exit(call("ruff", "format", *(["--check"] if check else []), *code_paths()))


def typecheck(
    strict: Annotated[
        bool, typer.Option(help="Add --strict to what pyproject.toml configures.")
    ] = False,
) -> None:
    """mypy, as configured in pyproject.toml (strict in this project)."""
    raise typer.Exit(call("mypy", *(["--strict"] if strict else [])))


def run_tests(
    paths: Annotated[list[str] | None, typer.Argument(help="Test files or folders.")] = None,
    *,
    coverage: Annotated[bool, typer.Option(help="Measure coverage of src/.")] = False,
    html: Annotated[
        bool, typer.Option(help="Also write the coverage report to htmlcov/ (implies --coverage).")
    ] = False,
    keyword: Annotated[
        str | None, typer.Option("-k", help="Only tests matching this expression.")
    ] = None,
    marker: Annotated[
        str | None, typer.Option("-m", help="Only tests with this marker (e.g. postgres).")
    ] = None,
    exitfirst: Annotated[bool, typer.Option("-x", help="Stop at the first failure.")] = False,
) -> None:
    """pytest (the whole suite by default)."""
    args = ["--cov", "--cov-report=term"] if coverage or html else []
    args += ["--cov-report=html"] if html else []
    args += ["-k", keyword] if keyword else []
    args += ["-m", marker] if marker else []
    args += ["-x"] if exitfirst else []
    raise typer.Exit(call("pytest", *args, *(paths or [])))


def quality(
    fix: Annotated[bool, typer.Option(help="Fix and format first.")] = False,
    tests: Annotated[bool, typer.Option(help="Run the test suite last.")] = True,
) -> None:
    """lint, format check, typecheck and the tests, all run; exits with the first failure's
    code."""
    paths = code_paths()
    steps = [["ruff", "check", *paths], ["ruff", "format", "--check", *paths], ["mypy"]]
    if fix:
        steps = [["ruff", "check", "--fix", *paths], ["ruff", "format", *paths], ["mypy"]]
    steps += [["pytest", "-q"]] if tests else []
    codes = [call(*step) for step in steps]
    failed = [" ".join(step[:2]) for step, code in zip(steps, codes, strict=True) if code]
    if failed:
        typer.echo(f"failed: {', '.join(failed)}", err=True)
    raise typer.Exit(next((code for code in codes if code), 0))


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to bind.")] = 8000,
    reload: Annotated[bool, typer.Option(help="Restart on code changes.")] = True,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (with --no-reload).")] = 1,
) -> None:
    """`example-service serve` with reloading on, for development."""
    if reload and workers > 1:
        typer.echo("error: --workers needs --no-reload", err=True)
        raise typer.Exit(2)
    args = ["serve", "--host", host, "--port", str(port), "--workers", str(workers)]
    args += ["--reload"] if reload else []
    command = [sys.executable, "-m", "example_service", *args]
    raise typer.Exit(subprocess.run(command, check=False).returncode)  # noqa: S603


def run_command(
    command: Annotated[list[str], typer.Argument(help="The command and its arguments.")],
) -> None:
    """Run a command with this virtualenv's tools first on PATH; its exit code."""
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }
    found = shutil.which(command[0], path=env["PATH"])
    if found is None:
        typer.echo(f"error: {command[0]} not found", err=True)
        raise typer.Exit(NOT_FOUND)
    raise typer.Exit(subprocess.run([found, *command[1:]], env=env, check=False).returncode)  # noqa: S603


def clean() -> None:
    """Remove caches and coverage output (never .venv or var/)."""
    found = [Path(name) for name in CACHES] + [
        path for base in code_paths() for path in Path(base).rglob("__pycache__")
    ]
    for path in found:
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        else:
            continue
        typer.echo(f"removed {path}")


def deps(
    outdated: Annotated[
        bool, typer.Option(help="Only those with a newer release (asks the package index).")
    ] = False,
) -> None:
    """The packages installed in this virtualenv (`uv pip list`); uv's exit code."""
    args = ["pip", "list", "--python", sys.executable, *(["--outdated"] if outdated else [])]
    raise typer.Exit(call("uv", *args))


def info(
    everything: Annotated[
        bool,
        typer.Option("--all", help="Add the settings (secrets masked), notices and every package."),
    ] = False,
) -> None:
    """Versions, paths and the active backends."""
    dev_info.show(everything=everything)


def build() -> typer.Typer:
    group = typer.Typer(
        help="Development tools (ruff, mypy, pytest, the server).", no_args_is_help=True
    )
    group.command("lint")(lint)
    group.command("format")(format_)
    group.command("typecheck")(typecheck)
    group.command("test")(run_tests)
    group.command("quality")(quality)
    group.command("serve")(serve)
    group.command(
        "run", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
    )(run_command)
    group.command("clean")(clean)
    group.command("deps")(deps)
    group.command("info")(info)
    return group
