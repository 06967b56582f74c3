"""Instructions per request under callgrind: a figure that repeats on a busy machine.

wrk's req/s on a shared 2-core machine drifts by +-15 % between runs; callgrind counts the
instructions the server executes (user space, syscalls excluded) and gives the same total for
the same code. Instrumentation is switched on only around N keep-alive requests, after a warm-up.
"""

from __future__ import annotations

import glob
import http.client
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from typing import Any


def _requests(port: int, path: str, count: int, headers: dict[str, str]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for _ in range(count):
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{path} answered {response.status}")
    connection.close()


def instructions_per_request(
    target: Any, port: int, count: int, start: Callable[..., subprocess.Popen[bytes]]
) -> float:
    """`start(target, port, wrapper=...)` launches the server under the given wrapper."""
    if not shutil.which("valgrind"):
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    out_dir = tempfile.mkdtemp(prefix="callgrind-")
    wrapper = [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        f"--callgrind-out-file={out_dir}/out.%p",
    ]
    proc = start(target, port, wrapper=wrapper)
    headers = dict(h.split(": ", 1) for h in target.headers)
    try:
        _requests(port, target.path, 100, headers)
        subprocess.run(
            ["callgrind_control", "-i", "on", str(proc.pid)], check=True, capture_output=True
        )
        _requests(port, target.path, count, headers)
        subprocess.run(
            ["callgrind_control", "-i", "off", str(proc.pid)], check=True, capture_output=True
        )
        subprocess.run(["callgrind_control", "-d", str(proc.pid)], check=True, capture_output=True)
        time.sleep(1)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    total = 0
    for path in glob.glob(f"{out_dir}/out.*"):
        with open(path) as handle:
            for line in handle:
                if line.startswith("totals:"):
                    total += int(line.split()[1])
    shutil.rmtree(out_dir, ignore_errors=True)
    return total / count
