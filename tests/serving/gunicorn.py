"""gunicorn with deploy/gunicorn.conf.py as a real process, on a free port."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from tests.servers import PROJECT_PREFIXES, ServedProcess, free_port, supervised

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "deploy" / "gunicorn.conf.py"
SLOW_APP = "tests.serving.slow_app:create_app()"


def gunicorn_command(port: int, args: Sequence[str] = ()) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        str(CONF),
        "--bind",
        f"127.0.0.1:{port}",
        *args,
    ]


def gunicorn_env(env: dict[str, str]) -> dict[str, str]:
    """This process's environment without the service's variables, plus `env`; the
    repository on the path for the tests' app module."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(PROJECT_PREFIXES)}
    return {**clean, "PYTHONPATH": str(ROOT), **env}


@contextlib.contextmanager
def gunicorn_process(
    cwd: Path, env: dict[str, str], args: Sequence[str] = (SLOW_APP,), timeout: float = 60.0
) -> Iterator[ServedProcess]:
    """The arbiter and its workers, once one answers; stopped (SIGTERM) on the way out."""
    port = free_port()
    log = cwd / "gunicorn.log"  # a file, not a pipe nobody reads while the test runs
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            gunicorn_command(port, args),
            cwd=cwd,
            env=gunicorn_env(env),
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,  # its own process group: workers included in a forced stop
        )
    with supervised(process, port, timeout, stop_within=20.0, log=log) as served:
        yield served
