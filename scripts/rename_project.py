"""Give a copy of this project its own name: `python scripts/rename_project.py --project NAME
--package NAME --description TEXT [--PART yes|no]...`, run in the copy's root,
where PART is one of scripts/parts.py's optional parts (benchmarks, deploy, tasks...).

Copier runs it after `copier copy` and `copier update` (copier.yml): the template's files are
copied as they are, so that the codegen templates' own Jinja2 is left alone, then renamed here.
Every text file's `example_service` and `example-service` become the new names, the package
folder moves, and the description replaces this one's. The optional parts answered "no" are
unwired (scripts/parts.py).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import parts

OLD_PACKAGE = "example_service"
OLD_PROJECT = "example-service"
SKIP_FILES = {".copier-answers.yml"}  # it says where the template is: left as written
SKIP_DIRS = {".git", ".venv", ".tools", "var", "__pycache__", ".mypy_cache", ".ruff_cache"}
_PROJECT_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")


def text_files(root: Path) -> list[Path]:
    found = []
    for path in sorted(root.rglob("*")):
        if SKIP_DIRS & set(path.relative_to(root).parts) or path.name in SKIP_FILES:
            continue
        if not path.is_file():
            continue
        if path.resolve() == Path(__file__).resolve():
            continue  # its own names are the old ones
        try:
            path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary: a compressed word list, an image
        found.append(path)
    return found


def rename(root: Path, project: str, package: str, description: str) -> None:
    old_description = _description(root / "pyproject.toml")
    for path in text_files(root):
        text = path.read_text(encoding="utf-8")
        new = text.replace(OLD_PACKAGE, package).replace(OLD_PROJECT, project)
        if path.name == "pyproject.toml" and old_description:
            new = new.replace(old_description, description.replace('"', "'"))
        if new != text:
            path.write_text(new, encoding="utf-8")
        if OLD_PROJECT in path.name:  # the Grafana dashboard: its tests name it by the project
            path.replace(path.with_name(path.name.replace(OLD_PROJECT, project)))
    move_package(root / "src" / OLD_PACKAGE, root / "src" / package)


def move_package(source: Path, target: Path) -> None:
    """Move the package's files under the new name. On `copier update` the target exists (the
    project's own modules are in it): the template's files replace theirs one by one."""
    if not source.is_dir():
        return
    for path in sorted(source.rglob("*")):
        if path.is_file():
            destination = target / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            path.replace(destination)
    shutil.rmtree(source)


def _description(pyproject: Path) -> str | None:
    match = re.search(r'^description = "(.*)"$', pyproject.read_text(), re.MULTILINE)
    return match.group(1) if match else None


def drop_benchmarks(root: Path) -> None:
    """bench/ without the benchmarks (`make bench` is marked: parts.py). The Locust file stays:
    it is the load test of a deployment (README "nginx in front"), and tests/deploy runs it."""
    bench = root / "bench"
    if bench.is_dir():
        for path in bench.iterdir():
            if path.name == "locustfile.py":
                continue
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()


def tool(name: str) -> str | None:
    """The executable `name` beside this interpreter (copier's own environment), else on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.is_file() else shutil.which(name)


def reformat(root: Path, unwired: list[Path]) -> bool:
    """New names change line lengths and import order, and an unwired part leaves imports
    unused: ruff puts them right, when it is there (beside this interpreter or on PATH). False
    without it."""
    ruff = tool("ruff")
    if ruff is None:
        return False
    paths = [
        name
        for name in ("src", "tests", "bench", "scripts", "migrations")
        if (root / name).is_dir()
    ]
    python = [path for path in unwired if path.suffix == ".py"]
    modules = [str(path) for path in python if path.name != "__init__.py"]
    unused = ["check", "--fix-only", "--unsafe-fixes", "--select", "F401", "--quiet"]
    runs = []
    if modules:  # only there: elsewhere an unused import is the lint's to report
        runs.append([*unused, *modules])
    # After the unused imports went: their removal leaves blank lines isort takes out.
    runs.append(["check", "--fix-only", "--select", "I", "--quiet", *paths])
    runs.append(["format", "--quiet", *paths])
    for path in python:
        if path.name == "__init__.py":
            _remove_unused_imports(ruff, unused, root, path)
    for args in runs:
        subprocess.run([ruff, *args], cwd=root, check=False, timeout=300)  # noqa: S603
    return True


def _remove_unused_imports(ruff: str, unused: list[str], root: Path, init: Path) -> None:
    """ruff leaves unused imports in an `__init__.py` (there, one may be a re-export): read
    under another name, as a module, they go."""
    fixed = subprocess.run(  # noqa: S603
        [ruff, *unused, "--stdin-filename", str(init.with_name("_init_.py")), "-"],
        cwd=root,
        input=init.read_text(encoding="utf-8"),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if fixed.returncode == 0 and fixed.stdout.strip():
        init.write_text(fixed.stdout, encoding="utf-8")


def relock(root: Path) -> bool:
    """uv.lock without the dependencies of the parts left out, from what it holds already (no
    download: a removal needs none); uv from $UV, else found as `tool` finds it. False
    without uv, or when it fails."""
    found = os.environ.get("UV") or tool("uv")
    if found is None or not (root / "uv.lock").is_file():
        return False
    locked = subprocess.run(  # noqa: S603
        [found, "lock", "--offline", "--quiet"], cwd=root, check=False, timeout=300
    )
    return locked.returncode == 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", required=True, help="Distribution and command name.")
    parser.add_argument("--package", required=True, help="Python package name.")
    parser.add_argument("--description", default="")
    for part in sorted(parts.PARTS):
        parser.add_argument(f"--{part}", choices=("yes", "no"), default="yes")
    args = parser.parse_args(argv)
    if not _PROJECT_NAME.match(args.project):
        parser.error(f"--project {args.project!r}: lowercase words joined by hyphens")
    if not args.package.isidentifier() or not args.package.islower():
        parser.error(f"--package {args.package!r}: a lowercase Python identifier")
    root = Path.cwd()
    if not (root / "src").is_dir():
        parser.error(f"{root} has no src/: run it in the project's root")
    rename(root, args.project, args.package, args.description)
    if args.benchmarks == "no":
        drop_benchmarks(root)
    without = [part for part in sorted(parts.PARTS) if getattr(args, part) == "no"]
    unwired = parts.apply(text_files(root), without)
    print(f"renamed to {args.project} ({args.package})")
    if not reformat(root, unwired):
        print("ruff not found: run `make format` once to reformat the renamed code")
    if root / "pyproject.toml" in unwired and not relock(root):
        print("uv not found: run `uv lock` once (a part left out took its dependencies along)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
