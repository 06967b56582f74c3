"""The project being generated into: where its files are, and the formatter it has."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from example_service.codegen.errors import GenerateError

PACKAGE = "example_service"


@dataclass(frozen=True, slots=True)
class Project:
    root: Path

    @classmethod
    def at(cls, root: Path) -> Project:
        root = root.resolve()
        if not (root / "src" / PACKAGE / "app.py").is_file():
            raise GenerateError(
                f"{root} is not this service's project: src/{PACKAGE}/app.py is missing"
            )
        return cls(root)

    @property
    def package(self) -> Path:
        return self.root / "src" / PACKAGE

    def relative(self, path: Path) -> str:
        return str(path.relative_to(self.root))


def ruff() -> str | None:
    """The ruff beside this interpreter (the project's virtualenv), else on PATH."""
    beside = Path(sys.executable).parent / "ruff"
    return str(beside) if beside.is_file() else shutil.which("ruff")


def tidy(root: Path, paths: list[Path], fix: str = "I") -> bool:
    """Fix `fix` rules (import order) and format `paths` with the project's ruff settings;
    False without ruff.

    Templates cannot know how long a line a given name makes: the formatter wraps it exactly as
    `ruff format --check` expects.
    """
    binary = ruff()
    files = [str(path) for path in paths if path.suffix == ".py"]
    if binary is None or not files:
        return binary is not None
    for args in (["check", "--fix-only", "--select", fix, "--quiet"], ["format", "--quiet"]):
        subprocess.run([binary, *args, *files], cwd=root, check=False, timeout=120)  # noqa: S603
    return True
