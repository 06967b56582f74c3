"""`serve --workers 2` from a cold bytecode cache: every worker starts once and stays.

Container images often run with PYTHONDONTWRITEBYTECODE=1 and no compiled files, so each worker
compiles every module it imports before it can answer the supervisor's health check
(SERVER_WORKER_HEALTHCHECK_SECONDS). A worker that misses it is killed and started again, and
again: the service never comes up.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson

from tests.servers import PROJECT_PREFIXES, free_port, wait_until_healthy

WATCH = 4.0  # seconds after the first answer in which no worker may be replaced


def test_two_workers_start_from_a_cold_bytecode_cache(tmp_path: Path) -> None:
    port = free_port()
    empty_cache = tmp_path / "no-bytecode-here"
    empty_cache.mkdir()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(PROJECT_PREFIXES)}
    env = {
        **clean,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/app.db",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPYCACHEPREFIX": str(empty_cache),  # no compiled module is found, none is written
    }
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "example_service",
                "serve",
                "--workers",
                "2",
                "--port",
                str(port),
            ],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            started = wait_until_healthy(process, f"http://127.0.0.1:{port}", timeout=60)
            assert started, log_path.read_text()
            time.sleep(WATCH)
            assert process.poll() is None, log_path.read_text()
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    lines = [orjson.loads(line) for line in log_path.read_bytes().splitlines() if line[:1] == b"{"]
    events = [str(line.get("event", "")) for line in lines]
    assert events.count("app.startup") == 2, events
    assert not [e for e in events if "died" in e or "not ready" in e or "failed" in e], events
    assert not list(empty_cache.rglob("*.pyc"))  # it really was cold
