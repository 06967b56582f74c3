"""A plan of files to write: printed by `--dry-run`, refused as a whole when it would overwrite
a file without `--force`, else written."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from example_service.codegen.errors import GenerateError
from example_service.codegen.project import Project, tidy


@dataclass(frozen=True, slots=True)
class Change:
    path: Path
    content: str
    edit: bool = False  # an existing project file changed in place, not a generated one


@dataclass(slots=True)
class Plan:
    project: Project
    changes: list[Change] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)  # what runs after writing, described

    def create(self, relative: str, content: str) -> None:
        self.changes.append(Change(self.project.root / relative, content))

    def create_missing(self, relative: str, content: str) -> None:
        """Create a file only where there is none (a package's `__init__.py`)."""
        if not (self.project.root / relative).exists():
            self.create(relative, content)

    def edit(self, relative: str, content: str) -> None:
        path = self.project.root / relative
        if path.read_text() != content:
            self.changes.append(Change(path, content, edit=True))

    def check(self, *, force: bool) -> None:
        """Refuse, naming every file, before anything is written."""
        existing = [
            self.project.relative(c.path) for c in self.changes if not c.edit and c.path.exists()
        ]
        if existing and not force:
            raise GenerateError(f"would overwrite {', '.join(existing)} (--force to overwrite)")

    def describe(self) -> list[str]:
        lines = []
        for change in self.changes:
            verb = "edit" if change.edit else "overwrite" if change.path.exists() else "create"
            lines.append(f"{verb:9} {self.project.relative(change.path)}")
        lines.extend(f"{'run':9} {step}" for step in self.steps)
        return lines

    def write(self) -> bool:
        """Write every change; True when ruff formatted them (see `tidy`)."""
        for change in self.changes:
            change.path.parent.mkdir(parents=True, exist_ok=True)
            change.path.write_text(change.content)
        return tidy(self.project.root, [change.path for change in self.changes])
