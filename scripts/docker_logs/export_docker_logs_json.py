"""Export the last N lines of the stack's JSON logs into one clean JSON (or NDJSON) file.

    python scripts/docker_logs/export_docker_logs_json.py --service app --tail 200 \\
        --format array --out app-logs.json --dropped-out app-logs.dropped.txt

Runs `<compose-cmd> logs --no-color --tail N [services...]` (an argument list, never a shell),
strips what compose puts before each line (`app-1  | `, `project_app_1 | `, padding, and ANSI
colour codes in case the compose in use ignores --no-color), and keeps each line that parses as
a JSON object. Every other line goes, as read (colours removed), to --dropped-out if given.

Formats:
- `array`: one document, {"meta": {...}, "logs": [record, ...]}.
- `ndjson`: one record per line and nothing else, so that `jq`, `grep` and log shippers read
  every line as a record; the meta block goes to a file of its own, --meta-out, by default
  `<out>.meta.json` (none when writing to standard output without --meta-out).

Partial lines: Docker stores a line over 16 KiB as several partial messages; a log driver or
wrapper that does not reassemble them makes compose print each piece as a line of its own,
with its own prefix. A line of a container that starts with `{` but does not parse is kept
aside, and the following lines of the same container are appended to it until the whole
parses (then one record, counted in `meta.joined`). It is given up, its pieces dropped, when a
line that starts a record of its own (`{"`) arrives, at MAX_FRAGMENTS pieces or
MAX_JOINED_CHARS characters, or at the end of the output. Pieces are joined as they are (with
nothing between), which is how they were cut.

Exit status: 0 on success; 1 when the compose command is missing, fails or times out (one line
on stderr); 2 for a usage error.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MAX_FRAGMENTS = 64
MAX_JOINED_CHARS = 1_048_576
# CSI sequences (colours, cursor moves) and the two-character escapes: what a terminal-minded
# compose may still send.
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])")
# A compose prefix: a container name (v2 `app-1`, v1 `project_app_1`, or a bare service name
# with --no-log-prefix off and no index), padding, a bar, one space.
_PREFIX = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9_.-]*)\s*\|(?: |$)")
_INDEX = re.compile(r"[-_]\d+$")


class ExportError(Exception):
    """A failure to report as one line on stderr."""


def split_line(raw: str) -> tuple[str | None, str]:
    """Return (container name or None, message) of one line of compose output."""
    line = _ANSI.sub("", raw).rstrip("\r")
    match = _PREFIX.match(line)
    if match is None:
        return None, line
    return match["name"], line[match.end() :]


def service_of(container: str) -> str:
    """`app-1` and `project_app_1` -> their service (the v1 name keeps its project prefix)."""
    return _INDEX.sub("", container)


def _as_object(text: str) -> dict[str, Any] | None:
    stripped = text.strip()
    if not stripped.startswith("{"):
        return None
    try:
        value = json.loads(stripped)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


@dataclass
class _Pending:
    text: str
    lines: list[str]


@dataclass
class Parsed:
    records: list[dict[str, Any]] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    containers: set[str] = field(default_factory=set)
    joined: int = 0


def parse(output: str) -> Parsed:
    """Sort compose output into records and dropped lines, joining partial lines."""
    result = Parsed()
    pending: dict[str | None, _Pending] = {}

    def drop_pending(container: str | None) -> None:
        piece = pending.pop(container, None)
        if piece is not None:
            result.dropped.extend(piece.lines)

    for raw in output.splitlines():
        container, message = split_line(raw)
        if not message.strip():
            continue  # a blank log line: nothing to keep or to report
        shown = _ANSI.sub("", raw)
        if container is not None:
            result.containers.add(container)
        record = _as_object(message)
        if record is not None:
            drop_pending(container)  # a whole record: whatever was pending never completed
            result.records.append(record)
            continue
        piece = pending.get(container)
        if piece is not None and not message.lstrip().startswith('{"'):
            piece.text += message
            piece.lines.append(shown)
            record = _as_object(piece.text)
            if record is not None:
                del pending[container]
                result.records.append(record)
                result.joined += 1
            elif len(piece.lines) >= MAX_FRAGMENTS or len(piece.text) > MAX_JOINED_CHARS:
                drop_pending(container)
            continue
        drop_pending(container)
        if message.lstrip().startswith("{"):
            pending[container] = _Pending(message, [shown])
        else:
            result.dropped.append(shown)
    for container in list(pending):
        drop_pending(container)
    return result


def run_compose(compose_cmd: str, tail: int, services: list[str], timeout: float) -> str:
    command = [*shlex.split(compose_cmd), "logs", "--no-color", "--tail", str(tail), *services]
    try:
        done = subprocess.run(  # noqa: S603 - an argument list from the operator's own options
            command, capture_output=True, timeout=timeout, check=False
        )
    except FileNotFoundError:
        raise ExportError(f"compose command not found: {command[0]!r}") from None
    except PermissionError:
        raise ExportError(f"compose command not executable: {command[0]!r}") from None
    except subprocess.TimeoutExpired:
        raise ExportError(f"{shlex.join(command)!r} did not finish in {timeout:g} s") from None
    if done.returncode != 0:
        errors = done.stderr.decode("utf-8", "replace").strip().splitlines()
        why = f": {errors[-1]}" if errors else ""
        raise ExportError(f"{shlex.join(command)!r} exited with status {done.returncode}{why}")
    return str(done.stdout.decode("utf-8", "replace"))


def meta_block(args: argparse.Namespace, parsed: Parsed) -> dict[str, Any]:
    return {
        "generated_at": datetime.now(UTC).isoformat(),
        "compose_cmd": args.compose_cmd,
        "tail": args.tail,
        "services": args.service or sorted({service_of(c) for c in parsed.containers}),
        "containers": sorted(parsed.containers),
        "format": args.format,
        "parsed": len(parsed.records),
        "dropped": len(parsed.dropped),
        "joined": parsed.joined,
    }


def _write(path: str, text: str) -> None:
    if path == "-":
        # Bytes: standard output's own encoding may not be UTF-8 (a C locale, a pipe).
        sys.stdout.buffer.write(text.encode("utf-8"))
        sys.stdout.buffer.flush()
        return
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror}") from None


def dump(value: object, indent: int | None = None) -> str:
    # Non-ASCII text as it is: the logs' own encoding is UTF-8.
    return json.dumps(value, ensure_ascii=False, indent=indent)


def write_outputs(args: argparse.Namespace, parsed: Parsed) -> None:
    meta = meta_block(args, parsed)
    if args.format == "array":
        _write(args.out, dump({"meta": meta, "logs": parsed.records}, indent=2) + "\n")
    else:
        _write(args.out, "".join(dump(record) + "\n" for record in parsed.records))
        meta_out = args.meta_out or (None if args.out == "-" else f"{args.out}.meta.json")
        if meta_out:
            _write(meta_out, dump(meta, indent=2) + "\n")
    if args.dropped_out:
        _write(args.dropped_out, "".join(line + "\n" for line in parsed.dropped))


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--compose-cmd", default="docker compose", help='default: "docker compose"')
    p.add_argument("--service", action="append", help="a compose service; repeatable; default all")
    p.add_argument("--tail", type=positive, default=200, help="lines per container (200)")
    p.add_argument("--format", choices=("array", "ndjson"), default="array")
    p.add_argument("--out", default="-", help="output file; - (default) is standard output")
    p.add_argument("--dropped-out", help="file for the lines that are not JSON objects")
    p.add_argument("--meta-out", help="ndjson: file for the meta block (<out>.meta.json)")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds for compose (120)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if not shlex.split(args.compose_cmd):
            parser().error("--compose-cmd is empty")
    except ValueError as exc:  # an unbalanced quote
        parser().error(f"--compose-cmd: {exc}")
    try:
        output = run_compose(args.compose_cmd, args.tail, args.service or [], args.timeout)
        parsed = parse(output)
        write_outputs(args, parsed)
    except (ExportError, ValueError) as exc:
        print(f"export_docker_logs_json: error: {exc}", file=sys.stderr)
        return 1
    print(
        f"export_docker_logs_json: {len(parsed.records)} records, {len(parsed.dropped)} dropped"
        f" lines, {parsed.joined} joined from partial lines",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
