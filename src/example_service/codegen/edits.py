"""Edits to the project's own files that register a generated domain: its router in the app,
its models for Alembic, its permissions in the role table.

Each edit is idempotent (already there: no change) and keeps the file as ruff wants it (imports
sorted within the first-party block), so a generated project stays lint-clean.
"""

from __future__ import annotations

import re

from example_service.codegen.errors import GenerateError

_FIRST_PARTY = re.compile(r"^(?:from|import) (example_service[\w.]*)")


def add_import(source: str, line: str) -> str:
    """Insert import `line` among the `example_service` imports, in module order."""
    if line in source.splitlines():
        return source
    module = _module(line)
    lines = source.splitlines(keepends=True)
    last = None
    for index, existing in enumerate(lines):
        match = _FIRST_PARTY.match(existing)
        if match is None:
            continue
        if (_sort_key(match.group(1)), existing) > (_sort_key(module), line):
            lines.insert(index, line + "\n")
            return "".join(lines)
        last = index
    if last is None:
        raise GenerateError(f"no example_service import to place {line!r} beside")
    if lines[last].rstrip().endswith("("):  # past a parenthesised import's closing line
        while lines[last].strip() != ")":
            last += 1
    lines.insert(last + 1, line + "\n")
    return "".join(lines)


def _module(line: str) -> str:
    match = _FIRST_PARTY.match(line)
    if match is None:
        raise GenerateError(f"not an example_service import: {line!r}")
    return match.group(1)


def _sort_key(module: str) -> tuple[str, ...]:
    return tuple(module.split("."))


def add_to_list(source: str, function: str, item: str) -> str:
    """Append `item` to the list that `def function` returns (`return [a, b, c]`)."""
    pattern = re.compile(
        rf"(def {function}\(.*?\n(?:.*\n)*?\s+return \[)(?P<items>[^\]]*)\]", re.MULTILINE
    )
    match = pattern.search(source)
    if match is None:
        raise GenerateError(f"`{function}` returning a list literal was not found")
    text = match.group("items")
    items = [line.strip() for part in text.split(",") for line in part.splitlines()]
    if item in items:
        return source
    if "#" in text:
        # Commented items (an optional part's markers, CONTRIBUTING.md): one item a line, the
        # lines kept as they are, the new one last.
        body = text.rstrip()
        lines = body.split("\n")
        code = max(
            (i for i, line in enumerate(lines) if not line.lstrip().startswith("#")), default=0
        )
        if not lines[code].rstrip().endswith(","):
            lines[code] = lines[code].rstrip() + ","
        indent = lines[code][: len(lines[code]) - len(lines[code].lstrip())]
        new = "\n".join([*lines, f"{indent}{item},"]) + text[len(body) :]
        return source[: match.start("items")] + new + source[match.end("items") :]
    items = [part for part in items if part]
    items.append(item)
    # Written on one line; the formatter splits it when it is too long.
    return source[: match.start("items")] + ", ".join(items) + source[match.end("items") :]


def add_enum_members(source: str, enum: str, members: dict[str, str]) -> str:
    """Add `NAME = "value"` members at the end of `class enum(...)`'s body."""
    match = re.search(rf"^class {enum}\(.*\):\n((?:    .*\n)+)", source, re.MULTILINE)
    if match is None:
        raise GenerateError(f"class {enum} was not found")
    body = match.group(1)
    new = "".join(
        f'    {name} = "{value}"\n'
        for name, value in members.items()
        if not re.search(rf"^    {name} = ", body, re.MULTILINE)
    )
    return source[: match.end(1)] + new + source[match.end(1) :]


def noqa_on_last(source: str, prefix: str, noqa: str = "  # noqa: F401") -> str:
    """Keep `noqa` on the last line starting with `prefix` only.

    ruff reports the side-effect imports `import a.b.models` as unused on the last of them alone
    (they bind the same top-level name), and an unneeded `noqa` is itself an error.
    """
    lines = [line.removesuffix(noqa) for line in source.split("\n")]
    last = max(index for index, line in enumerate(lines) if line.startswith(prefix))
    lines[last] += noqa
    return "\n".join(lines)
