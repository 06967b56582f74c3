"""The repository as a Copier template: `copier copy` with answers other than the defaults gives
a project with its own names, without the parts answered "no" (their files, and their marked
wiring in the files that stay), that passes its own gates and its own `make test`; `copier
update` brings a later change of the template into it. Two renders run their gates and tests:
one without the task queue, one without Redis; a third, without any optional part, is linted.

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

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.scripts.loading import load_script

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# The two renders whose gates and tests run. Without the task queue and the benchmarks, the
# deployment files kept (their linters run on a compose file and manifests without a worker):
ANSWERS = {
    "project_name": "acme-orders",
    "description": "Orders for Acme.",
    "include_benchmarks": "false",
    "include_tasks": "false",
}
# Without Redis: tasks then run in the API process, and the deployment has no worker.
WITHOUT_REDIS = {"project_name": "acme-orders", "include_redis": "false"}
# Checked without its gates: every part that can go, gone.
BARE = {
    "project_name": "acme-orders",
    "include_tasks": "false",
    "include_redis": "false",
    "include_deploy": "false",
    "include_benchmarks": "false",
}


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


def copier_copy(template: Path, dest: Path, answers: dict[str, str], **env: str) -> Path:
    data = [arg for key, value in answers.items() for arg in ("--data", f"{key}={value}")]
    copier = str(BIN / "copier")
    args = ("copy", "--trust", "--defaults", "--quiet", "--vcs-ref", "HEAD", *data)
    run(template, copier, *args, str(template), str(dest), **env)
    return dest


# uv in the environment: a part that takes dependencies with it relocks (rename_project.py).
@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("template") / "acme-orders"
    return copier_copy(ROOT, dest, ANSWERS, UV=uv())


@pytest.fixture(scope="module")
def without_redis(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("template") / "acme-orders"
    return copier_copy(ROOT, dest, WITHOUT_REDIS, UV=uv())


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("template") / "acme-orders"
    return copier_copy(ROOT, dest, BARE, UV=uv())


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


def markers_left(project: Path) -> list[str]:
    """The files of `project` in which a marker line (or a table row's marker) is left."""
    parts = load_script("parts")
    left = []
    for path in project.rglob("*"):
        if not path.is_file() or ".venv" in path.parts or path.name == "parts.py":
            continue  # parts.py shows the markers in its docstring, and is left as it is
        text = path.read_text(errors="replace")
        if parts.strip(text, (), str(path)) != text:
            left.append(str(path.relative_to(project)))
    return left


def test_every_marker_in_the_template_pairs_up_and_names_a_part() -> None:
    parts = load_script("parts")
    tracked = run(ROOT, "git", "ls-files").stdout.split()
    marked = []
    for name in tracked:
        try:
            text = (ROOT / name).read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError):
            continue
        if parts.strip(text, sorted(parts.PARTS), name) != text:  # raises on a broken pair
            marked.append(name)
    assert {"README.md", "docs/metrics.md", "src/example_service/app.py"} <= set(marked)


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


DEPLOYMENT = [
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
MONITORING = [
    "compose.monitoring.yaml",
    "deploy/prometheus",
    "deploy/grafana",
    "tests/observability/test_alerts.py",
    "tests/deploy/test_monitoring_files.py",
    "tests/docs/test_runbook.py",
]


def test_it_leaves_out_the_task_queue_and_the_benchmarks(rendered: Path) -> None:
    tasks_files = [
        "src/{package}/tasks",
        "src/{package}/settings/tasks.py",
        "src/{package}/cli/tasks_cmd.py",
        "migrations/versions/0002_task_runs.py",
        "tests/tasks",
        "bench/tasks.py",
        "deploy/k8s/deployment-worker.yaml",
        "deploy/k8s/deployment-scheduler.yaml",
    ]
    for name in tasks_files:
        assert (ROOT / name.format(package="example_service")).exists(), name  # the template's
        assert not (rendered / name.format(package="acme_orders")).exists(), name
    files = {
        str(path.relative_to(rendered)): path.read_text(errors="replace")
        for path in rendered.rglob("*")
        if path.is_file() and ".venv" not in path.parts
    }
    assert [name for name, text in files.items() if "acme_orders.tasks" in text] == []
    assert "taskiq" not in files["pyproject.toml"]
    assert "taskiq" not in files["uv.lock"] and "acme-orders" in files["uv.lock"]  # relocked
    assert "TasksSettings" not in files["src/acme_orders/settings/__init__.py"]
    assert "tasks_cmd" not in files["src/acme_orders/cli/__init__.py"]
    assert "worker:" not in files["compose.yaml"]
    assert "tasks_" not in files["docs/metrics.md"]
    assert "task_duration" not in files["deploy/grafana/dashboards/acme-orders.json"]
    assert "include_tasks: false" in files[".copier-answers.yml"]
    # No benchmarks: bench/ keeps only the deployment's load test.
    assert [path.name for path in (rendered / "bench").iterdir()] == ["locustfile.py"]
    assert "bench:" not in files["Makefile"] and "make bench" not in files["CONTRIBUTING.md"]
    assert "## Benchmark" not in files["README.md"] and "\nmake bench" not in files["README.md"]
    assert "(#benchmark)" not in files["README.md"]
    assert "## nginx in front" in files["README.md"]  # the deployment is kept
    assert markers_left(rendered) == []


def test_deploy_no_leaves_out_every_deployment_file(bare: Path) -> None:
    for name in DEPLOYMENT:
        assert (ROOT / name).exists(), name  # the template has them
        assert not (bare / name).exists(), name
    assert (bare / "deploy/gunicorn.conf.py").is_file()  # the package under gunicorn
    assert (bare / "docs/metrics.md").is_file()
    assert (bare / "tests/observability/test_catalogue.py").is_file()  # metrics stay
    # The README says nothing of what is gone, and every marker went with its block.
    readme = (bare / "README.md").read_text()
    for gone in ("## nginx in front", "## Containers and Kubernetes", "docs/production.md)"):
        assert gone not in readme, gone
    assert "## Serving" in readme and "## Production and operations" in readme  # the rest stays
    # Its `make lint` runs no deployment linter: there is nothing for them to read.
    planned = run(bare, "make", "--dry-run", "lint", f"UV={uv()}").stdout
    assert "ruff check" in planned and "hadolint" not in planned
    assert "include_deploy: false" in (bare / ".copier-answers.yml").read_text()


def test_without_redis_nothing_of_it_is_left(without_redis: Path) -> None:
    rendered = without_redis
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
    assert markers_left(rendered) == []


@pytest.mark.parametrize("render", ["rendered", "without_redis"])
def test_it_passes_its_own_gates_and_make_test(render: str, request: pytest.FixtureRequest) -> None:
    rendered: Path = request.getfixturevalue(render)
    run(rendered, "make", "install", "lint", "typecheck", f"UV={uv()}", timeout=600)
    assert (rendered / ".venv/bin/acme-orders").is_file()
    chosen = selection(rendered)
    packages = {path.split("/")[1] for path in chosen if path.count("/") == 2}
    assert {"users", "cli", "codegen", "observability"} <= packages
    assert ("tasks" in packages) == (render == "without_redis")
    args = " ".join(["-x", "-p", "no:cacheprovider", "--cov-fail-under=0", *chosen])
    # The contract test's run is bounded by its own settings: 10 s a run instead of 60.
    bounded = {"SCHEMATHESIS_MAX_TIME": "10", "SCHEMATHESIS_MAX_EXAMPLES": "5"}
    result = run(
        rendered, "make", "test", f"UV={uv()}", f"PYTEST_ARGS={args}", timeout=900, **bounded
    )
    assert " passed" in result.stdout and " failed" not in result.stdout, result.stdout[-3000:]
    assert "src/acme_orders/" in result.stdout  # the coverage of its own package


def test_observability_no_leaves_out_the_monitoring_stack_only(tmp_path: Path) -> None:
    answers = {"project_name": "acme-orders", "include_observability": "false"}
    without = copier_copy(ROOT, tmp_path / "without", answers)
    for name in MONITORING:
        assert not (without / name).exists(), name
    assert (without / "compose.yaml").is_file() and (without / "deploy/k8s").is_dir()
    readme = (without / "README.md").read_text()
    assert "`deploy/prometheus/` holds" not in readme and "`deploy/grafana/` holds" not in readme
    assert "## nginx in front" in readme and "## Benchmark" in readme
    assert markers_left(without) == []


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
        "--data",
        "include_deploy=false",
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
    # The parts answered "no" stay out: files, and the marked lines of the files that stay.
    assert not (project / "Dockerfile").exists()
    assert "## nginx in front" not in (project / "README.md").read_text()
    assert markers_left(project) == []


def test_a_part_s_metrics_are_marked_in_docs_metrics_md() -> None:
    """docs/metrics.md is compared with the catalogue without its markers (test_catalogue.py):
    here, that a part's rows are inside its blocks, so that a project without the part has
    none (regenerating the file takes the markers out: put them back)."""
    parts = load_script("parts")
    doc = (ROOT / "docs" / "metrics.md").read_text()
    for part, prefixes in parts.METRIC_PREFIXES.items():
        rows = tuple(f"| `{prefix}" for prefix in prefixes)
        assert any(line.startswith(rows) for line in doc.splitlines()), part
        left = [line for line in parts.strip(doc, [part]).splitlines() if line.startswith(rows)]
        assert left == [], part


def test_without_every_part_the_code_still_lints(bare: Path) -> None:
    """Tasks and Redis both off: their blocks nest (the broker's settings, the worker's
    commands). The gates of each part alone run above; here ruff, which finds an undefined or
    unused name."""
    assert markers_left(bare) == []
    assert not (bare / "src/acme_orders/tasks").exists()
    assert not (bare / "src/acme_orders/redis").exists()
    lock = (bare / "uv.lock").read_text()
    assert "taskiq" not in lock and 'name = "redis"' not in lock
    ruff = str(BIN / "ruff")
    run(bare, ruff, "check", "src", "tests", "scripts", "migrations")
    run(bare, ruff, "format", "--check", "src", "tests", "scripts", "migrations")
