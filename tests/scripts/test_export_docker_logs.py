"""scripts/docker_logs/export_docker_logs_json.py on captured compose output.

The script runs its real subprocess path against a fake compose: a small executable written
here that records its arguments and prints what `docker compose logs` printed (prefixes,
padding, colours, a record cut in pieces, non-JSON lines), so no container engine is needed.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.scripts.loading import run_script

SCRIPT = (
    Path(__file__).resolve().parents[2] / "scripts" / "docker_logs" / "export_docker_logs_json.py"
)
ESC = "\x1b"
LONG = "x" * 40
# What compose prints: v2 names with padding, a v1 name, a coloured prefix (a compose that
# ignored --no-color), banners, a record the driver cut in three, an unfinished piece, a JSON
# value that is not an object, and a line with no prefix at all.
CAPTURED = "\n".join(
    [
        'app-1     | {"event": "startup", "level": "info", "msg": "démarré ✓"}',
        "app-1     | INFO:     Started server process [7]",
        f'{ESC}[36mworker-1  |{ESC}[0m {{"event": "task.done", "task": "send_email"}}',
        'app-1     | {"event": "http.request", "path": "/' + LONG[:10],
        "worker-1  | not json at all",
        'proj_redis_1 | {"event": "redis says hi"}',
        "app-1     | " + LONG[10:],
        'app-1     | ", "status": 200}',
        "app-1     | [1, 2, 3]",
        'app-1     | {"event": "cut", "never": "fin',
        'app-1     | {"event": "after the cut"}',
        '{"event": "no prefix"}',
        "",
        "app-1     | ",
    ]
)


@pytest.fixture
def fake_compose(tmp_path: Path) -> str:
    """A `--compose-cmd` that prints CAPTURED and writes its argv to argv.json."""
    (tmp_path / "captured.txt").write_text(CAPTURED + "\n", encoding="utf-8")
    fake = tmp_path / "fake-docker"
    fake.write_text(
        f"#!{sys.executable}\n"
        "import json, pathlib, sys\n"
        "here = pathlib.Path(__file__).parent\n"
        "(here / 'argv.json').write_text(json.dumps(sys.argv[1:]))\n"
        "sys.stdout.buffer.write((here / 'captured.txt').read_bytes())\n",
        encoding="utf-8",
    )
    fake.chmod(0o755)
    return f"{shlex.quote(str(fake))} compose"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_script(SCRIPT, *args, cwd=cwd)


EXPECTED_EVENTS = [
    "startup",
    "task.done",
    "redis says hi",
    "http.request",
    "after the cut",
    "no prefix",
]


def test_array_format(tmp_path: Path, fake_compose: str) -> None:
    result = run(
        *("--compose-cmd", fake_compose, "--service", "app", "--service", "worker"),
        *("--tail", "50", "--out", "out.json", "--dropped-out", "dropped.txt"),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    argv = json.loads((tmp_path / "argv.json").read_text())
    assert argv == ["compose", "logs", "--no-color", "--tail", "50", "app", "worker"]

    document = json.loads((tmp_path / "out.json").read_text())
    assert set(document) == {"meta", "logs"}
    events = [record["event"] for record in document["logs"]]
    # The cut record is complete once its third piece arrives, hence after redis's line.
    assert sorted(events) == sorted(EXPECTED_EVENTS)
    assert events.index("redis says hi") < events.index("http.request")
    joined = next(r for r in document["logs"] if r["event"] == "http.request")
    assert joined == {"event": "http.request", "path": "/" + LONG, "status": 200}

    meta = document["meta"]
    assert meta["tail"] == 50
    assert meta["services"] == ["app", "worker"]
    assert meta["containers"] == ["app-1", "proj_redis_1", "worker-1"]
    assert (meta["parsed"], meta["dropped"], meta["joined"]) == (6, 4, 1)
    assert meta["generated_at"].endswith("+00:00")

    dropped = (tmp_path / "dropped.txt").read_text().splitlines()
    assert dropped == [
        "app-1     | INFO:     Started server process [7]",
        "worker-1  | not json at all",
        "app-1     | [1, 2, 3]",
        'app-1     | {"event": "cut", "never": "fin',
    ]
    assert "6 records, 4 dropped lines, 1 joined" in result.stderr


def test_ndjson_format_keeps_meta_in_its_own_file(tmp_path: Path, fake_compose: str) -> None:
    result = run(
        "--compose-cmd", fake_compose, "--format", "ndjson", "--out", "o.ndjson", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    argv = json.loads((tmp_path / "argv.json").read_text())
    assert argv == ["compose", "logs", "--no-color", "--tail", "200"]
    lines = (tmp_path / "o.ndjson").read_text().splitlines()
    assert sorted(json.loads(line)["event"] for line in lines) == sorted(EXPECTED_EVENTS)
    meta = json.loads((tmp_path / "o.ndjson.meta.json").read_text())
    # No --service: the services seen, from their container names.
    assert meta["services"] == ["app", "proj_redis", "worker"]
    assert meta["format"] == "ndjson" and meta["parsed"] == len(lines) == 6


def test_stdout_is_utf8_whatever_the_locale(tmp_path: Path, fake_compose: str) -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--compose-cmd", fake_compose],
        capture_output=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
        env={**os.environ, "LC_ALL": "C", "PYTHONIOENCODING": "ascii"},
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout.decode("utf-8"))
    assert document["meta"]["dropped"] == 4
    assert document["logs"][0]["msg"] == "démarré ✓"
    assert "démarré ✓".encode() in result.stdout  # as text, not as \u escapes


def test_missing_compose_command(tmp_path: Path) -> None:
    result = run("--compose-cmd", str(tmp_path / "no-such-docker") + " compose", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("export_docker_logs_json: error: compose command not found")
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    assert not list(tmp_path.iterdir())


def test_failing_compose_command(tmp_path: Path) -> None:
    fake = tmp_path / "docker"
    fake.write_text(
        f"#!{sys.executable}\nimport sys\nprint('no such service: api', file=sys.stderr)\n"
        "sys.exit(3)\n",
        encoding="utf-8",
    )
    fake.chmod(0o755)
    result = run("--compose-cmd", f"{fake} compose", "--out", "o.json", cwd=tmp_path)
    assert result.returncode == 1
    assert "exited with status 3: no such service: api" in result.stderr
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "o.json").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tail", "0"], "must be at least 1"),
        (["--format", "xml"], "invalid choice"),
        (["--compose-cmd", ""], "--compose-cmd is empty"),
        (["--compose-cmd", "'docker"], "--compose-cmd: No closing quotation"),
    ],
)
def test_usage_errors(tmp_path: Path, args: list[str], message: str) -> None:
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_compose_that_hangs_is_given_up(tmp_path: Path) -> None:
    fake = tmp_path / "docker"
    fake.write_text(f"#!{sys.executable}\nimport time\ntime.sleep(30)\n", encoding="utf-8")
    fake.chmod(0o755)
    result = run("--compose-cmd", f"{fake} compose", "--timeout", "0.5", cwd=tmp_path)
    assert result.returncode == 1
    assert "did not finish in 0.5 s" in result.stderr
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
