"""The repository as a Copier template: `copier copy` with answers other than the defaults gives
a project with its own names, without the parts answered "no" (Redis among them: its files, and
its marked wiring in those that stay), that passes its own gates and its own `make test`;
`copier update` brings a later change of the template into it.

The rendered project gets a virtualenv of its own (`make install`: uv, from its lock file, out of
uv's cache) so that its renamed command is installed. Its `make test` runs on a selection
(PYTEST_ARGS, which the Makefile passes to pytest): from each of its test packages, one per
package of its code, the smallest test module, and the smallest top-level one. That imports and
exercises every package of the renamed project, including what depends on the removed parts,
in about two minutes where the whole suite takes nine (the contract test's Schemathesis runs
bounded to 10 s each by its own settings); coverage is measured but not held to the
whole suite's threshold, which a selection cannot reach.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ANSWERS = {
    "project_name": "acme-orders",
    "description": "Orders for Acme.",
    "include_benchmarks": "false",
    "include_deploy": "true",
    "include_observability": "false",
    "include_redis": "false",
}


def parts_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("parts", ROOT / "scripts" / "parts.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def uv() -> str:
    found = shutil.which("uv") or ROOT / ".tools" / "bin" / "uv"
    if not Path(found).is_file():
        pytest.skip("uv not found: `make install` puts one in .tools/")
    return str(found)


def run(
    cwd: Path, *args: str, timeout: float = 300, **extra: str
) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"} | extra
    # Copier commits in scratch repositories during an update: an identity wherever it runs.
    for role in ("AUTHOR", "COMMITTER"):
        env.setdefault(f"GIT_{role}_NAME", "test")
        env.setdefault(f"GIT_{role}_EMAIL", "test@example.com")
    result = subprocess.run(
        list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{args}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def copier_copy(template: Path, dest: Path, answers: dict[str, str]) -> Path:
    data = [arg for key, value in answers.items() for arg in ("--data", f"{key}={value}")]
    copier = str(BIN / "copier")
    args = ("copy", "--trust", "--defaults", "--quiet", "--vcs-ref", "HEAD", *data)
    run(template, copier, *args, str(template), str(dest))
    return dest


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("template") / "acme-orders"
    return copier_copy(ROOT, dest, ANSWERS)


def selection(project: Path) -> list[str]:
    """The smallest test module of each test package, and of the top level (never this one:
    it would render the template again)."""

    def smallest(paths: list[Path]) -> str | None:
        paths = [path for path in paths if path.name != Path(__file__).name]
        if not paths:
            return None
        return str(
            min(paths, key=lambda path: (path.stat().st_size, path.name)).relative_to(project)
        )

    tests = project / "tests"
    groups = [sorted(tests.glob("test_*.py"))] + [
        sorted(folder.glob("test_*.py")) for folder in sorted(tests.iterdir()) if folder.is_dir()
    ]
    return [chosen for group in groups if (chosen := smallest(group)) is not None]


def test_it_has_its_own_names(rendered: Path) -> None:
    assert (rendered / "src/acme_orders/app.py").is_file()
    assert not (rendered / "src/example_service").exists()
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
    assert not (rendered / "tests/scripts/test_copier_template.py").exists()  # not a template
    answers = (rendered / ".copier-answers.yml").read_text()
    assert "project_name: acme-orders" in answers and "include_benchmarks: false" in answers
    assert "_commit: " in answers  # what `copier update` starts from


def test_it_leaves_out_the_parts_answered_no(rendered: Path) -> None:
    # No benchmarks: bench/ keeps only the deployment's load test, which tests/deploy runs.
    assert [path.name for path in (rendered / "bench").iterdir()] == ["locustfile.py"]
    assert "bench:" not in (rendered / "Makefile").read_text()
    # No monitoring stack: its overlay, its configuration and the tests that read them.
    for gone in (
        "compose.monitoring.yaml",
        "deploy/prometheus",
        "deploy/grafana",
        "tests/observability/test_alerts.py",
        "tests/deploy/test_monitoring_files.py",
        "tests/docs/test_runbook.py",
    ):
        assert not (rendered / gone).exists(), gone
    assert (rendered / "compose.yaml").is_file()
    assert (rendered / "deploy/k8s").is_dir()
    assert (rendered / "tests/observability/test_catalogue.py").is_file()  # the metrics stay
    answers = (rendered / ".copier-answers.yml").read_text()
    assert "include_observability: false" in answers


def test_without_redis_nothing_of_it_is_left(rendered: Path) -> None:
    for gone in (
        "src/acme_orders/redis",
        "src/acme_orders/cache/redis.py",
        "src/acme_orders/cache/twolevel.py",
        "src/acme_orders/ratelimit/redis.py",
        "src/acme_orders/security/bans/redis.py",
        "src/acme_orders/tasks/redis.py",
        "src/acme_orders/tasks/worker.py",
        "src/acme_orders/cli/tasks_cmd.py",
        "tests/redis",
        "deploy/k8s/deployment-worker.yaml",
    ):
        assert not (rendered / gone).exists(), gone
    assert not list((rendered / "src").rglob("*.lua"))  # every script is a Redis one
    code = [
        (path.relative_to(rendered), line)
        for root in ("src", "tests", "bench", "scripts")
        for path in (rendered / root).rglob("*.py")
        for line in path.read_text().splitlines()
        if re.search(r"^\s*(from|import) (redis|taskiq_redis)\b|acme_orders\.redis\b", line)
        or re.match(r"\s*# (end )?part: redis", line)  # a marker left behind
    ]
    assert code == []
    for name in ("pyproject.toml", ".env.example", ".ci/run", "compose.yaml"):
        text = (rendered / name).read_text()
        assert not re.search(r"REDIS_|redis-server|\"redis\[|taskiq-redis|redis:", text), name
    assert "include_redis: false" in (rendered / ".copier-answers.yml").read_text()


def test_it_passes_its_own_gates_and_make_test(rendered: Path) -> None:
    run(rendered, "make", "install", "lint", "typecheck", f"UV={uv()}", timeout=600)
    assert (rendered / ".venv/bin/acme-orders").is_file()
    chosen = selection(rendered)
    packages = {path.split("/")[1] for path in chosen if path.count("/") == 2}
    assert {"users", "cli", "codegen", "tasks", "observability"} <= packages
    args = " ".join(["-x", "-p", "no:cacheprovider", "--cov-fail-under=0", *chosen])
    # The contract test's run is bounded by its own settings: 10 s a run instead of 60.
    bounded = {"SCHEMATHESIS_MAX_TIME": "10", "SCHEMATHESIS_MAX_EXAMPLES": "5"}
    result = run(
        rendered, "make", "test", f"UV={uv()}", f"PYTEST_ARGS={args}", timeout=900, **bounded
    )
    assert " passed" in result.stdout and " failed" not in result.stdout, result.stdout[-3000:]
    assert "src/acme_orders/" in result.stdout  # the coverage of its own package


def test_deploy_no_leaves_out_every_deployment_file(tmp_path: Path) -> None:
    deployment = [
        "Dockerfile",
        ".dockerignore",
        "compose.yaml",
        "compose.monitoring.yaml",
        "deploy/k8s",
        "deploy/nginx",
        "deploy/prometheus",
        "deploy/grafana",
        "docs/production.md",
        "scripts/docker_logs",
        "tests/deploy",
        "tests/scripts/test_export_docker_logs.py",
        "tests/docs/test_runbook.py",
        "tests/observability/test_alerts.py",
    ]
    for name in deployment:
        assert (ROOT / name).exists(), name  # the template has them
    answers = {"project_name": "acme-orders", "include_deploy": "false"}
    without = copier_copy(ROOT, tmp_path / "without", answers)
    for name in deployment:
        assert not (without / name).exists(), name
    assert (without / "deploy/gunicorn.conf.py").is_file()  # how the package runs under gunicorn
    assert (without / "docs/metrics.md").is_file()
    # Its `make lint` runs no deployment linter: there is nothing for them to read.
    planned = run(without, "make", "--dry-run", "lint", f"UV={uv()}").stdout
    assert "ruff check" in planned and "hadolint" not in planned


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


def test_every_marker_in_the_template_pairs_up_and_names_a_part() -> None:
    parts = parts_script()
    tracked = subprocess.run(
        ["git", "ls-files"],  # noqa: S607 - the checkout's git, whichever is on PATH
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    marked = 0
    for name in tracked:
        path = ROOT / name
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue
        stripped = parts.strip(text, sorted(parts.PARTS), name)  # raises on a broken pair
        marked += stripped != text
    assert marked >= 5  # the parts are wired in this many files at least: the markers exist
