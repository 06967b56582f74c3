"""The optional parts' wiring, marked in the files that stay: what `copier copy` takes out of a
project whose answer for the part is "no" (scripts/rename_project.py calls it).

A part's own files (its package, its tests) are left out by copier.yml's `_exclude`. The lines
that wire it into the rest (an app's start-up, a settings section, a compose service) sit
between two marker lines, in the file's comment syntax (`<!-- part: tasks -->` in Markdown):

    # part: tasks
    ...
    # end part: tasks

Without the part the lines between go; with it, only the marker lines do. A Markdown table row,
which a line between its rows would cut in two, ends with the marker instead:
`| deployment | ... | <!-- part: deploy -->` goes with its part. Parts nest (Redis
wiring inside the tasks' settings). The README's sections on the benchmarks, the deployment
files and the monitoring stack are marked the same way. Code is written so that taking a block
out leaves code that works without the part: the part's branch comes first and returns, the
in-process fallback after it. Imports need no markers: what a removed block used, ruff's F401
fix removes after.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

PARTS = frozenset({"benchmarks", "deploy", "observability", "redis", "tasks"})
_MARKER = re.compile(r"^\s*(?:#|<!--)\s*(end )?part: ([a-z]+)\s*(?:-->)?\s*$")
_ROW_MARKER = re.compile(r"\s*<!-- part: ([a-z]+) -->(\s*)$")  # at the end of a table row


class MarkerError(ValueError):
    """Markers that don't pair up, or name no known part."""


def strip(text: str, without: Iterable[str], name: str = "<text>") -> str:
    """The text without the blocks of the parts in `without`, and without every marker line."""
    dropped = set(without)
    kept: list[str] = []
    open_parts: list[tuple[str, int]] = []
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        marker = _MARKER.match(line)
        if marker is None:
            kept_line = _row(line, dropped, f"{name}:{number}")
            if kept_line is not None and not dropped.intersection(part for part, _ in open_parts):
                kept.append(kept_line)
            continue
        closing, part = marker.group(1) is not None, marker.group(2)
        if part not in PARTS:
            raise MarkerError(f"{name}:{number}: unknown part {part!r}")
        if not closing:
            open_parts.append((part, number))
        elif not open_parts or open_parts[-1][0] != part:
            raise MarkerError(f"{name}:{number}: `end part: {part}` closes no open block")
        else:
            open_parts.pop()
    if open_parts:
        part, number = open_parts[-1]
        raise MarkerError(f"{name}:{number}: `part: {part}` is never ended")
    return "".join(kept)


def _row(line: str, dropped: set[str], where: str) -> str | None:
    """A line as it stays (a table row's marker taken off), or None when its part goes."""
    row = _ROW_MARKER.search(line)
    if row is None:
        return line
    if row.group(1) not in PARTS:
        raise MarkerError(f"{where}: unknown part {row.group(1)!r}")
    return None if row.group(1) in dropped else line[: row.start()] + row.group(2)


def apply(files: Iterable[Path], without: Iterable[str]) -> list[Path]:
    """Strip every file in place; the files that changed."""
    dropped = frozenset(without)
    if unknown := dropped - PARTS:
        raise MarkerError(f"unknown parts: {', '.join(sorted(unknown))}")
    changed = []
    for path in files:
        if path.resolve() == Path(__file__).resolve():
            continue  # its own text shows the markers
        text = path.read_text(encoding="utf-8")
        if "part: " not in text:
            continue
        new = strip(text, dropped, str(path))
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed
