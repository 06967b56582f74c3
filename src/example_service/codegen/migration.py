"""`generate migration MSG` and a resource's migration: `autogen.py` in a child process, then
the file formatted like the rest of the code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from example_service.codegen.errors import GenerateError
from example_service.codegen.project import Project, tidy


def generate_migration(project: Project, message: str) -> list[Path]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(project.root / "src"), os.environ.get("PYTHONPATH", "")]
        ),
    }
    result = subprocess.run(  # noqa: S603 - this interpreter, a module of this package
        [sys.executable, "-m", "example_service.codegen.autogen", message],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise GenerateError(f"autogenerate failed: {last}")
    paths = [Path(line) for line in result.stdout.splitlines() if line.endswith(".py")]
    # Alembic renders long lines and always imports the column types module: ruff fixes both.
    tidy(project.root, paths, fix="I,F401")
    return paths
