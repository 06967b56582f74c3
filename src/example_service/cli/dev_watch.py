"""`dev lint --watch`: re-run the linter whenever a file under the code paths changes, until
Ctrl-C; the exit code is the last run's.

A polling loop over modification times rather than inotify: no extra dependency, the same on
every platform, and a code tree is small enough to stat twice a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

import typer

INTERVAL_SECONDS = 0.5
WATCHED_SUFFIXES = {".py", ".pyi", ".toml"}


def snapshot(paths: Iterable[str]) -> dict[Path, int]:
    """Each watched file under `paths` and its modification time (nanoseconds)."""
    found: dict[Path, int] = {}
    for base in paths:
        for path in Path(base).rglob("*"):
            if path.suffix in WATCHED_SUFFIXES and "__pycache__" not in path.parts:
                try:
                    found[path] = path.stat().st_mtime_ns
                except FileNotFoundError:  # removed between the listing and the stat
                    continue
    return found


def watch(
    paths: list[str],
    run: Callable[[], int],
    *,
    interval: float = INTERVAL_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Run `run` now and after every change (a file added, removed or modified); stop on
    Ctrl-C and return the last run's exit code."""
    seen = snapshot(paths)  # before the run: a change made during it is a change
    code = run()
    typer.echo(f"watching {', '.join(paths)} (Ctrl-C to stop): exit code {code}")
    try:
        while True:
            sleep(interval)
            now = snapshot(paths)
            if now != seen:
                seen = now
                code = run()
                typer.echo(f"changed: exit code {code}")
    except KeyboardInterrupt:
        typer.echo("stopped")
    return code
