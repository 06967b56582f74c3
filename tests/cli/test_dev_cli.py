"""`example-service dev ...`: each command exits with its tool's exit code; `dev info` masks
secrets and names the backends in effect. Run in a scratch project (the test's directory)."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from example_service.cli import build_cli, dev_watch

MYPY_STRICT = '[tool.mypy]\nstrict = true\nfiles = ["src"]\n'
MYPY_LAX = '[tool.mypy]\nfiles = ["src"]\n'
PASSING_TEST = "def test_passes():\n    assert True\n"
ROOT = Path(__file__).resolve().parents[2]


def dev(*args: str) -> Result:
    return CliRunner().invoke(build_cli(), ["dev", *args])


def write(path: str, text: str) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    return target


def test_lint_exits_with_ruffs_code_and_fixes() -> None:
    bad = write("src/app.py", "import os\n")
    assert dev("lint").exit_code == 1  # F401
    assert dev("lint", "--fix").exit_code == 0
    assert bad.read_text() == ""
    assert dev("lint").exit_code == 0


def test_format_check_then_format() -> None:
    source = write("src/app.py", "x=1\n")
    assert dev("format", "--check").exit_code == 1
    assert source.read_text() == "x=1\n"
    assert dev("format").exit_code == 0
    assert source.read_text() == "x = 1\n"
    assert dev("format", "--check").exit_code == 0


def test_typecheck_exits_with_mypys_code() -> None:
    write("pyproject.toml", MYPY_STRICT)
    write("src/app.py", "def double(x):\n    return x * 2\n")
    assert dev("typecheck").exit_code == 1  # untyped under --strict
    write("src/app.py", "def double(x: int) -> int:\n    return x * 2\n")
    assert dev("typecheck").exit_code == 0


def test_typecheck_strict_adds_strict() -> None:
    write("pyproject.toml", MYPY_LAX)
    write("src/app.py", "def double(x):\n    return x * 2\n")
    assert dev("typecheck").exit_code == 0  # untyped is fine without --strict
    assert dev("typecheck", "--strict").exit_code == 1


def test_test_passes_pytests_code_and_options() -> None:
    write(
        "tests/test_sample.py",
        "def test_passes():\n    assert True\n\n\ndef test_fails():\n    assert False\n",
    )
    assert dev("test").exit_code == 1
    assert dev("test", "-k", "passes").exit_code == 0
    assert dev("test", "-x", "tests/test_sample.py").exit_code == 1
    assert dev("test", "-k", "no_such_test").exit_code == 5  # pytest: nothing collected
    assert dev("test", "-m", "no_such_marker").exit_code == 5


def test_test_coverage_html_writes_the_report() -> None:
    write("src/sample.py", "def one() -> int:\n    return 1\n")
    write(
        "tests/test_sample.py",
        "from sample import one\n\n\ndef test_one():\n    assert one() == 1\n",
    )
    write("pytest.ini", "[pytest]\npythonpath = src\n")
    assert dev("test", "--coverage", "--html").exit_code == 0
    assert Path("htmlcov/index.html").is_file()
    write("tests/test_sample.py", "def test_fails():\n    assert False\n")
    assert dev("test", "--html").exit_code == 1


def test_run_passes_the_commands_exit_code() -> None:
    assert dev("run", sys.executable, "-c", "raise SystemExit(3)").exit_code == 3
    assert dev("run", "ruff", "--version").exit_code == 0  # found in the virtualenv
    missing = dev("run", "no-such-command-here")
    assert missing.exit_code == 127
    assert missing.stderr == "error: no-such-command-here not found\n"


def test_quality_runs_every_gate_and_exits_with_the_first_failure() -> None:
    write("pyproject.toml", MYPY_STRICT)
    write("src/app.py", "def double(x: int) -> int:\n    return x*2\n")
    write("tests/test_sample.py", PASSING_TEST)
    result = dev("quality")
    assert result.exit_code == 1
    assert result.stderr == "failed: ruff format\n"  # lint, mypy and the tests passed
    assert dev("quality", "--fix").exit_code == 0
    assert dev("quality").exit_code == 0
    write("tests/test_sample.py", "def test_fails() -> None:\n    assert False\n")
    failed = dev("quality")
    assert failed.exit_code == 1
    assert failed.stderr == "failed: pytest -q\n"
    assert dev("quality", "--no-tests").exit_code == 0


def test_a_missing_tool_is_127_with_a_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "nowhere" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    result = dev("typecheck")
    assert result.exit_code == 127
    assert result.stderr == "error: mypy not found: install the dev dependencies (uv sync)\n"


def test_serve_exits_with_the_servers_code(monkeypatch: pytest.MonkeyPatch) -> None:
    # Production with the default JWT secret: the server refuses to start, exit code 2.
    monkeypatch.setenv("APP_ENVIRONMENT", "production")
    assert dev("serve", "--no-reload", "--port", "1").exit_code == 2
    refused = dev("serve", "--workers", "2")
    assert refused.exit_code == 2
    assert refused.stderr == "error: --workers needs --no-reload\n"


def test_clean_removes_caches_only() -> None:
    for name in (".pytest_cache/v", ".mypy_cache/x", "src/pkg/__pycache__/m.pyc", ".venv/keep"):
        write(name, "")
    write(".coverage", "")
    result = dev("clean")
    assert result.exit_code == 0
    for gone in (".pytest_cache", ".mypy_cache", ".coverage", "src/pkg/__pycache__"):
        assert not Path(gone).exists(), gone
        assert f"removed {gone}" in result.stdout
    assert Path(".venv/keep").exists() and Path("src/pkg").is_dir()


def test_info_masks_secrets_and_names_the_backends(monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = ["jwt-secret-long-enough-0123456789abcdef", "pg-password-42"]
    monkeypatch.setenv("SECURITY_JWT_SECRET", secrets[0])
    monkeypatch.setenv("DATABASE_URL", f"postgresql+asyncpg://app:{secrets[1]}@db.test:5432/app")
    backends = {
        "database": "postgresql",
        "cache": "memory",
        "rate_limit": "memory",
        "telemetry": "noop",
    }
    # part: redis
    secrets.append("redis-password-42")
    monkeypatch.setenv("REDIS_URL", f"redis://:{secrets[2]}@cache.test:6379/0")
    backends |= {"redis": "configured", "cache": "two-level", "rate_limit": "redis"}
    # end part: redis
    result = dev("info", "--all")
    assert result.exit_code == 0, result.output
    for secret in secrets:
        assert secret not in result.stdout
    report = json.loads(result.stdout)
    assert report["backends"] == backends
    assert report["settings"]["database"]["url"] == "postgresql+asyncpg://app:***@db.test:5432/app"
    assert report["settings"]["security"]["jwt_secret"] == "**********"
    assert report["versions"]["python"] == ".".join(map(str, sys.version_info[:3]))
    assert report["versions"]["fastapi"][0].isdigit()
    assert report["installed"]["fastapi"] == report["versions"]["fastapi"]


def test_info_without_all_leaves_the_settings_out() -> None:
    report = json.loads(dev("info").stdout)
    assert set(report) == {"versions", "backends", "paths"}
    assert report["paths"]["python"] == sys.executable


def test_info_defaults_and_bad_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    backends = json.loads(dev("info").stdout)["backends"]
    assert (backends["database"], backends["cache"], backends["rate_limit"]) == (
        "sqlite",
        "memory",
        "memory",
    )
    monkeypatch.setenv("DATABASE_POOL_SIZE", "many")
    result = dev("info")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: invalid settings: DATABASE_POOL_SIZE: ")
    assert len(result.stderr.splitlines()) == 1


def test_deps_lists_this_environment_with_uvs_exit_code(monkeypatch: pytest.MonkeyPatch) -> None:
    uv = ROOT / ".tools/bin/uv"
    if not uv.exists():
        pytest.skip("uv not found: `make install` puts one in .tools/")
    monkeypatch.setenv("UV", str(uv))
    listed = subprocess.run(
        [sys.executable, "-m", "example_service", "dev", "deps"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    assert any(line.split()[:1] == ["fastapi"] for line in listed.stdout.splitlines())
    fake = write("fake-uv", '#!/bin/sh\necho "$@" > args\nexit 3\n')
    fake.chmod(0o755)
    monkeypatch.setenv("UV", str(fake.resolve()))
    assert dev("deps", "--outdated").exit_code == 3
    assert Path("args").read_text().split() == [
        *("pip", "list", "--python", sys.executable, "--outdated")
    ]


def test_lint_watch_reruns_on_a_change_and_stops_on_ctrl_c() -> None:
    source = write("src/app.py", "x = 1\n")
    watcher = subprocess.Popen(  # a real process: Ctrl-C is a SIGINT
        [sys.executable, "-m", "example_service", "dev", "lint", "--watch"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    output = watcher.stdout
    assert output is not None
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:  # a thread of its own: a wait for a line is then bounded
        for line in output:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    try:
        assert wait_for_line(lines, "watching src").endswith("exit code 0")
        time.sleep(0.05)  # a modification time the first snapshot cannot share
        source.write_text("import os\n")  # F401: ruff now fails
        assert wait_for_line(lines, "changed") == "changed: exit code 1"
        watcher.send_signal(signal.SIGINT)
        assert watcher.wait(timeout=30) == 1  # the last run's code
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait()


def wait_for_line(lines: queue.Queue[str], start: str) -> str:
    """The next of the watcher's lines starting with `start`, within 30 s (ruff's own output
    goes to the same pipe)."""
    while True:
        line = lines.get(timeout=30)
        if line.startswith(start):
            return line.strip()


def test_watch_runs_again_on_each_change_only() -> None:
    source = write("src/app.py", "x = 1\n")
    runs: list[int] = []
    changes: list[Callable[[], object]] = [
        lambda: None,  # nothing changed: no run
        lambda: write("src/new.py", ""),  # a file added
        lambda: os.utime(source, ns=(0, 0)),  # one modified
        source.unlink,  # one removed
        lambda: write("src/notes.txt", "not watched"),
    ]

    def sleep(_: float) -> None:
        if not changes:
            raise KeyboardInterrupt  # Ctrl-C
        changes.pop(0)()

    def run() -> int:
        runs.append(len(runs))
        return len(runs)

    assert dev_watch.watch(["src"], run, sleep=sleep) == 4  # the last run's code
    assert len(runs) == 4  # the first, then one per change to a .py file
