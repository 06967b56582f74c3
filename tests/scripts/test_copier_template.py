"""The repository as a Copier template: `copier copy` with answers other than the defaults gives
a project with its own names that passes its own lint, type check and tests; `copier update`
brings a later change of the template into it.

The rendered project gets a virtualenv of its own (`make install`: uv, from its lock file, out of
uv's cache) so that its renamed command is installed; its tests run on a sample of the suite (the
users API on both databases, the CLI, the generator): the whole suite would add minutes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SAMPLE = [
    "tests/users/test_users.py",
    "tests/cli/test_cli.py",
    "tests/codegen/test_generate_resource.py",
]


def uv() -> str:
    found = shutil.which("uv") or ROOT / ".tools" / "bin" / "uv"
    if not Path(found).is_file():
        pytest.skip("uv not found: `make install` puts one in .tools/")
    return str(found)


def run(cwd: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    # Copier commits in scratch repositories during an update: an identity wherever it runs.
    for role in ("AUTHOR", "COMMITTER"):
        env.setdefault(f"GIT_{role}_NAME", "test")
        env.setdefault(f"GIT_{role}_EMAIL", "test@example.com")
    result = subprocess.run(
        list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{args}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("template") / "acme-orders"
    answers = {
        "project_name": "acme-orders",
        "description": "Orders for Acme.",
        "include_benchmarks": "false",
    }
    data = [arg for key, value in answers.items() for arg in ("--data", f"{key}={value}")]
    copier = str(BIN / "copier")
    run(
        ROOT,
        copier,
        "copy",
        "--trust",
        "--defaults",
        "--quiet",
        "--vcs-ref",
        "HEAD",
        *data,
        str(ROOT),
        str(dest),
    )
    return dest


def test_it_has_its_own_names(rendered: Path) -> None:
    assert (rendered / "src/acme_orders/app.py").is_file()
    assert not (rendered / "src/example_service").exists()
    assert not (rendered / "bench").exists()
    assert 'description = "Orders for Acme."' in (rendered / "pyproject.toml").read_text()
    assert 'acme-orders = "acme_orders.cli:main"' in (rendered / "pyproject.toml").read_text()
    left = [
        str(path.relative_to(rendered))
        for path in rendered.rglob("*")
        if path.is_file()
        and path.suffix in {".py", ".toml", ".md", ".j2", ".ini", ".mako", ".lock", ""}
        and "example_service" in path.read_text(errors="replace")
    ]
    assert left == ["scripts/rename_project.py"]  # the one file that must know the old names
    answers = (rendered / ".copier-answers.yml").read_text()
    assert "project_name: acme-orders" in answers and "include_benchmarks: false" in answers
    assert "_commit: " in answers  # what `copier update` starts from


def test_it_passes_its_own_gates_and_tests(rendered: Path) -> None:
    run(rendered, "make", "install", "lint", "typecheck", f"UV={uv()}", timeout=600)
    result = run(rendered, ".venv/bin/pytest", "-q", "-p", "no:cacheprovider", *SAMPLE, timeout=600)
    assert " passed" in result.stdout and " failed" not in result.stdout
    assert (rendered / ".venv/bin/acme-orders").is_file()


def git(cwd: Path, *args: str) -> None:
    run(cwd, "git", *args)


def test_copier_update_brings_template_changes_and_keeps_the_projects(tmp_path: Path) -> None:
    template, project = tmp_path / "template", tmp_path / "project"
    run(tmp_path, "git", "clone", "--quiet", str(ROOT), str(template))
    copier = str(BIN / "copier")
    run(
        tmp_path,
        copier,
        "copy",
        "--trust",
        "--defaults",
        "--quiet",
        "--vcs-ref",
        "HEAD",
        "--data",
        "project_name=acme-orders",
        str(template),
        str(project),
    )
    own = project / "src/acme_orders/orders.py"
    own.write_text('"""The project\'s own module."""\n')
    git(project, "init", "--quiet")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "-m", "start")
    pagination = template / "src/example_service/db/pagination.py"
    pagination.write_text(pagination.read_text().replace("MAX_LIMIT = 100", "MAX_LIMIT = 250"))
    git(template, "commit", "--quiet", "--all", "-m", "a later change")
    run(project, copier, "update", "--trust", "--defaults", "--quiet", "--vcs-ref", "HEAD")
    assert "MAX_LIMIT = 250" in (project / "src/acme_orders/db/pagination.py").read_text()
    assert own.read_text() == '"""The project\'s own module."""\n'
    assert not (project / "src/example_service").exists()
