"""scripts/parts.py: the optional parts' marked wiring goes with a "no", only the markers with a
"yes" (that every marker in the template pairs up: tests/scripts/test_copier_template.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("parts", ROOT / "scripts" / "parts.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


parts = load_script()

# Joined from strings: marker lines of its own in this file would be taken out of it when a
# project is made without a part.
WIRED = "\n".join(
    [
        "start = 1",
        "# part: tasks",
        "tasks = 2",
        "    # part: redis",
        "broker = 3",
        "    # end part: redis",
        "# end part: tasks",
        "<!-- part: redis -->",
        "Redis prose",
        "<!-- end part: redis -->",
        "end = 4",
        "",
    ]
)


@pytest.mark.parametrize(
    ("without", "left"),
    [
        ((), ["start = 1", "tasks = 2", "broker = 3", "Redis prose", "end = 4"]),
        (("redis",), ["start = 1", "tasks = 2", "end = 4"]),
        (("tasks",), ["start = 1", "Redis prose", "end = 4"]),
        (("redis", "tasks"), ["start = 1", "end = 4"]),
    ],
)
def test_a_no_takes_the_block_and_a_yes_only_the_markers(
    without: tuple[str, ...], left: list[str]
) -> None:
    assert parts.strip(WIRED, without).splitlines() == left


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("# part: tasks\nx = 1\n", "app.py:1: `part: tasks` is never ended"),
        ("x = 1\n# end part: redis\n", "app.py:2: `end part: redis` closes no open block"),
        ("# part: redis\n# part: tasks\n# end part: redis\n", "app.py:3: `end part: redis`"),
        ("# part: celery\n# end part: celery\n", "app.py:1: unknown part 'celery'"),
    ],
)
def test_markers_that_do_not_pair_up_are_refused_with_their_line(text: str, where: str) -> None:
    with pytest.raises(parts.MarkerError) as refused:
        parts.strip(text, (), "app.py")
    assert str(refused.value).startswith(where)


def test_an_unknown_part_to_leave_out_is_refused() -> None:
    with pytest.raises(parts.MarkerError, match="unknown parts: celery"):
        parts.apply([], ["celery"])


def test_apply_rewrites_only_the_files_with_markers(tmp_path: Path) -> None:
    wired, plain = tmp_path / "wired.py", tmp_path / "plain.py"
    wired.write_text(WIRED)
    plain.write_text("part = 'not a marker'  # part: tasks, in a sentence\n")
    assert parts.apply([wired, plain], ["tasks"]) == [wired]
    assert wired.read_text() == "start = 1\nRedis prose\nend = 4\n"
    assert plain.read_text() == "part = 'not a marker'  # part: tasks, in a sentence\n"
