"""scripts/rename_project.py refuses names a project cannot have, with argparse's usage error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "rename_project.py"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--project", "Orders API", "--package", "orders"], "lowercase words joined by hyphens"),
        (["--project", "orders-", "--package", "orders"], "lowercase words joined by hyphens"),
        (["--project", "orders", "--package", "orders-api"], "a lowercase Python identifier"),
        (["--project", "orders", "--package", "Orders"], "a lowercase Python identifier"),
        (["--project", "orders", "--package", "orders"], "has no src/"),
    ],
)
def test_refuses_bad_names_and_places(tmp_path: Path, args: list[str], message: str) -> None:
    before = sorted(tmp_path.iterdir())
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert sorted(tmp_path.iterdir()) == before
