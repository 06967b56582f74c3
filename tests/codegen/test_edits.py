"""The edits that register generated code keep the edited files valid and sorted."""

from __future__ import annotations

import pytest

from example_service.codegen import edits
from example_service.codegen.errors import GenerateError

SOURCE = """from __future__ import annotations

from fastapi import APIRouter

from example_service.alpha import router as alpha
from example_service.omega.things import (
    one,
    two,
)


def _api_routers() -> list[APIRouter]:
    return [
        alpha.router,
        one,
    ]
"""


def test_import_goes_in_module_order() -> None:
    middle = edits.add_import(SOURCE, "from example_service.beta import router as beta")
    assert middle.index("example_service.alpha") < middle.index("example_service.beta")
    assert middle.index("example_service.beta") < middle.index("example_service.omega")
    assert edits.add_import(middle, "from example_service.beta import router as beta") == middle


def test_import_after_a_parenthesised_one_goes_after_its_closing_line() -> None:
    last = edits.add_import(SOURCE, "from example_service.zeta import z")
    assert "    two,\n)\nfrom example_service.zeta import z\n" in last
    compile(last, "app.py", "exec")


def test_list_entry_is_appended_once_even_when_the_list_spans_lines() -> None:
    added = edits.add_to_list(SOURCE, "_api_routers", "beta_router")
    assert "return [alpha.router, one, beta_router]" in added
    assert edits.add_to_list(added, "_api_routers", "beta_router") == added


def test_a_list_with_marked_items_keeps_its_lines_and_gets_the_entry_last() -> None:
    marked = SOURCE.replace(
        "        one,\n", "        # part: tasks\n        one,\n        # end part: tasks\n"
    )
    added = edits.add_to_list(marked, "_api_routers", "beta_router")
    assert added.endswith(
        "        # part: tasks\n        one,\n        # end part: tasks\n"
        "        beta_router,\n    ]\n"
    )
    assert edits.add_to_list(added, "_api_routers", "beta_router") == added
    compile(added, "app.py", "exec")


def test_enum_members_are_added_once() -> None:
    source = 'class Permission(StrEnum):\n    A = "a"\n\n\nX = 1\n'
    added = edits.add_enum_members(source, "Permission", {"B": "b", "A": "a"})
    assert added == 'class Permission(StrEnum):\n    A = "a"\n    B = "b"\n\n\nX = 1\n'


def test_a_missing_anchor_is_a_generate_error() -> None:
    with pytest.raises(GenerateError, match="_api_routers"):
        edits.add_to_list("x = 1\n", "_api_routers", "a")
    with pytest.raises(GenerateError, match="class Permission"):
        edits.add_enum_members("x = 1\n", "Permission", {"A": "a"})
    with pytest.raises(GenerateError, match="no example_service import"):
        edits.add_import("import os\n", "from example_service.a import b")
