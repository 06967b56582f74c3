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

JSON has no comments: a Grafana dashboard (a .json file with `panels`) loses instead the panels
whose every query reads a metric of a part left out (METRIC_PREFIXES), and a row that is left
with no panel.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

PARTS = frozenset({"benchmarks", "deploy", "observability", "redis", "tasks"})
_MARKER = re.compile(r"^\s*(?:#|<!--)\s*(end )?part: ([a-z]+)\s*(?:-->)?\s*$")
# At the end of a table row: `<!-- part: tasks -->`, or `<!-- part: tasks redis -->` for a row
# that goes when either goes.
_ROW_MARKER = re.compile(r"\s*<!-- part: ([a-z]+(?: [a-z]+)*) -->(\s*)$")
# How the names of each part's metrics begin (docs/metrics.md lists them, marked).
METRIC_PREFIXES: dict[str, tuple[str, ...]] = {"tasks": ("task_", "tasks_")}


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
    named = set(row.group(1).split())
    if unknown := named - PARTS:
        raise MarkerError(f"{where}: unknown part {', '.join(sorted(unknown))!r}")
    return None if named & dropped else line[: row.start()] + row.group(2)


def drop_panels(text: str, without: Iterable[str]) -> str:
    """A Grafana dashboard's JSON without the panels that only show metrics of the parts in
    `without` (each of their queries reads one), nor the rows left with no panel. The text
    unchanged when nothing goes."""
    prefixes = tuple(prefix for part in without for prefix in METRIC_PREFIXES.get(part, ()))
    if not prefixes:
        return text
    metric = re.compile(r"\b(?:" + "|".join(map(re.escape, prefixes)) + r")\w*")

    def shown(panel: dict[str, Any]) -> bool:
        queries = [str(target.get("expr", "")) for target in panel.get("targets", [])]
        return not queries or not all(metric.search(query) for query in queries)

    def kept(panels: list[dict[str, Any]]) -> list[dict[str, Any]]:
        left = []
        for panel in filter(shown, panels):
            inner = panel.get("panels")  # a collapsed row holds its panels
            if not inner:
                left.append(panel)
            elif inner_left := kept(inner):
                left.append({**panel, "panels": inner_left})
        # An open row owns the panels after it, up to the next row.
        return [
            panel
            for i, panel in enumerate(left)
            if panel.get("type") != "row"
            or panel.get("panels")
            or (i + 1 < len(left) and left[i + 1].get("type") != "row")
        ]

    dashboard = json.loads(text)
    panels = dashboard.get("panels", [])
    left = kept(panels)
    if left == panels:
        return text
    return json.dumps({**dashboard, "panels": left}, indent=2, ensure_ascii=False) + "\n"


def apply(files: Iterable[Path], without: Iterable[str]) -> list[Path]:
    """Strip every file in place (and drop the dashboards' panels of the parts left out); the
    files that changed."""
    dropped = frozenset(without)
    if unknown := dropped - PARTS:
        raise MarkerError(f"unknown parts: {', '.join(sorted(unknown))}")
    changed = []
    for path in files:
        if path.resolve() == Path(__file__).resolve():
            continue  # its own text shows the markers
        text = path.read_text(encoding="utf-8")
        new = strip(text, dropped, str(path)) if "part: " in text else text
        if path.suffix == ".json" and '"panels"' in new:
            new = drop_panels(new, dropped)
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed
