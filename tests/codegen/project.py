"""A scratch copy of this project to generate into: what the generated code and its tests need,
run with this virtualenv's interpreter and tools."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# The generated tests run on the suite's own fixtures; the project's checks that every route
# declares its errors and that the migrations match the models run on the generated code too.
TEST_SUPPORT = (
    "__init__.py",
    "conftest.py",
    "servers.py",
    "identity.py",
    "errors/__init__.py",
    "errors/conftest.py",
    "errors/test_openapi.py",
    "db/__init__.py",
    "db/test_migrations.py",
)
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc")


def copy_project(dest: Path, *, tests: bool = True) -> Path:
    shutil.copytree(ROOT / "src", dest / "src", ignore=_IGNORE)
    shutil.copytree(ROOT / "migrations", dest / "migrations", ignore=_IGNORE)
    shutil.copy2(ROOT / "pyproject.toml", dest / "pyproject.toml")
    if tests:
        for name in TEST_SUPPORT:
            (dest / "tests" / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / "tests" / name, dest / "tests" / name)
    return dest


def project_env(project: Path, **extra: str) -> dict[str, str]:
    """This environment with the copy's `src` first on the path: its package, not ours."""
    return {**os.environ, "PYTHONPATH": str(project / "src"), **extra}


def run(
    project: Path, *args: str, timeout: float = 180, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run `args` (a tool of this virtualenv) in the copy; its output is in the failure."""
    tool = str(BIN / args[0]) if (BIN / args[0]).exists() else args[0]
    result = subprocess.run(
        [tool, *args[1:]],
        cwd=project,
        env=project_env(project, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, f"{args}: {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result
