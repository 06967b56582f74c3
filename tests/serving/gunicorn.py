"""gunicorn with deploy/gunicorn.conf.py as a real process, on a free port."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from tests.servers import PROJECT_PREFIXES, ServedProcess, free_port, wait_until_healthy

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
    served = ServedProcess(process, port)
    try:
        if not wait_until_healthy(process, served.base, timeout):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
            raise RuntimeError(f"gunicorn did not start: {log.read_text(errors='replace')}")
        yield served
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
