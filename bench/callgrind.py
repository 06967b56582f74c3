"""Instructions per request under callgrind: a figure that repeats on a busy machine.

wrk's req/s on a shared 2-core machine drifts by +-15 % between runs; callgrind counts the
instructions the server executes (user space, syscalls excluded) and gives nearly the same total
for the same code. The load is wrk's, with the same concurrent connections as a throughput run,
so that whatever batches under load (Redis pipelines, access-log flushes) batches here too.
Instrumentation is switched on only for the measured run, after a warm-up.
"""

from __future__ import annotations

import glob
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from typing import Any


def _wrk(port: int, target: Any, seconds: int, connections: int) -> int:
    """Requests completed by a wrk run (the server runs under callgrind: ~50x slower)."""
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "30s"]
    for header in target.headers:
        cmd += ["-H", header]
    cmd.append(f"http://127.0.0.1:{port}{target.path}")
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", "1", *cmd]  # off the server's core, as in a throughput run
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"{target.name}: non-2xx responses\n{out}")
    return int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]


def instructions_per_request(
    target: Any,
    port: int,
    seconds: int,
    connections: int,
    start: Callable[..., subprocess.Popen[bytes]],
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
    try:
        _wrk(port, target, 5, connections)  # warm-up
        subprocess.run(
            ["callgrind_control", "-i", "on", str(proc.pid)], check=True, capture_output=True
        )
        count = _wrk(port, target, seconds, connections)
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
