"""Load benchmark: the service against bare FastAPI, same endpoint, same run, alternating.

Each server is one uvicorn worker pinned to core 0; wrk is pinned to core 1. Rounds alternate
(bare, ours, bare, ours, ...) so that drift in machine speed hits both alike; the report gives
the median req/s and p99 of each, and the ratio ours / bare.

    python -m bench.run                      # default stack, in-process backends
    python -m bench.run --scenario NAME ...  # see SCENARIOS
    python -m bench.run --method callgrind   # instructions per request instead of req/s
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bench.callgrind import instructions_per_request

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@dataclass
class Target:
    name: str
    command: list[str]
    path: str
    port: int = 0
    env: dict[str, str] = field(default_factory=dict)
    headers: list[str] = field(default_factory=list)
    log: Path | None = None  # where the server's stdout goes (default: discarded)


def bare(port: int, access_log: bool = False) -> Target:
    command = [str(BIN / "uvicorn"), "bench.bare_app:create_app", "--factory", "--port", str(port)]
    if not access_log:
        # The strict reference: no logging at all, while ours writes a JSON line per request.
        command.append("--no-access-log")
    return Target("bare-log" if access_log else "bare", command, "/api/v1/info", port=port)


def ours(port: int, env: dict[str, str] | None = None, path: str = "/api/v1/info") -> Target:
    return Target(
        "ours",
        [str(BIN / "example-service"), "serve", "--port", str(port)],
        path,
        env={"LOG_FORMAT": "json", **(env or {})},
        port=port,
    )


# The global rate limit applies to the measured endpoint, set high enough never to refuse:
# the benchmark measures the cost of checking, not of refusing.
_NO_REFUSAL = {"RATE_LIMIT_REQUESTS": "1000000000", "RATE_LIMIT_PER_HOUR": "1000000000"}
# part: redis
REDIS_PORT = 8799
# end part: redis

SCENARIOS = {
    # The full default stack: every middleware on, JSON access log, in-process backends.
    "default": dict(_NO_REFUSAL),
    # part: redis
    # The same with rate limiting counted in Redis (a redis-server is started for the run).
    "redis": {**_NO_REFUSAL, "REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/0"},
    # end part: redis
    # The default stack exporting Prometheus metrics (against `default`: what metrics cost).
    "prometheus": {
        **_NO_REFUSAL,
        "TELEMETRY_MODE": "prometheus",
        "TELEMETRY_METRICS_PUBLIC": "true",
    },
}


# part: redis
def start_redis() -> subprocess.Popen[bytes]:
    cmd = ["redis-server", "--port", str(REDIS_PORT), "--save", "", "--appendonly", "no"]
    if shutil.which("taskset"):
        # Beside wrk, off the server's core: in production Redis runs on another machine.
        cmd = ["taskset", "-c", "1", *cmd]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return proc


def redis_round_trips(log: Path) -> None:
    """The server logs its pipeline counters at shutdown: commands per round trip."""
    commands = trips = 0
    for line in log.read_text().splitlines():
        if '"redis.closed"' in line:
            record = json.loads(line)
            commands += record["commands"]
            trips += record["round_trips"]
    if commands:
        print(
            f"redis: {commands} commands in {trips} round trips"
            f" ({trips / commands:.3f} round trips per request)"
        )


# end part: redis


def start(target: Target, port: int, wrapper: list[str] | None = None) -> subprocess.Popen[bytes]:
    env = {**os.environ, **target.env}
    # The same server on another port (callgrind runs): swap the port argument, nothing else.
    command = [
        str(port) if target.port and part == str(target.port) else part for part in target.command
    ]
    if wrapper:
        command = [*wrapper, sys.executable, *command]
    cmd = ["taskset", "-c", "0", *command] if shutil.which("taskset") else command
    out = target.log.open("ab") if target.log else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}{target.path}"
    deadline = time.monotonic() + (600 if wrapper else 20)
    while time.monotonic() < deadline:
        try:
            req = urllib.request.Request(url)
            for header in target.headers:
                name, _, value = header.partition(": ")
                req.add_header(name, value)
            with urllib.request.urlopen(req, timeout=1) as response:  # noqa: S310 - loopback only
                if response.status == 200:
                    return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"{target.name} did not come up on port {port}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(port: int, target: Target, seconds: int, connections: int) -> tuple[float, float, int]:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for header in target.headers:
        cmd += ["-H", header]
    cmd.append(f"http://127.0.0.1:{port}{target.path}")
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", "1", *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    count = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if non2xx:
        raise RuntimeError(f"{target.name}: {non2xx.group(1)} non-2xx responses\n{out}")
    latency = float(p99.group(1)) * _UNITS[p99.group(2)] if p99 else float("nan")
    return rps, latency, count


@dataclass
class Round:
    rps: float
    p99_ms: float
    cpu_us: float  # server CPU (user + system) per request


def measure(
    targets: list[Target], rounds: int, seconds: int, connections: int
) -> dict[str, list[Round]]:
    results: dict[str, list[Round]] = {t.name: [] for t in targets}
    for round_no in range(rounds):
        for index, target in enumerate(targets):
            port = 8700 + index
            proc = start(target, port)
            try:
                wrk(port, target, 2, connections)  # warm-up
                before = cpu_seconds(proc.pid)
                rps, p99, count = wrk(port, target, seconds, connections)
                cpu_us = (cpu_seconds(proc.pid) - before) / count * 1e6
            finally:
                stop(proc)
            results[target.name].append(Round(rps, p99, cpu_us))
            print(
                f"  round {round_no + 1} {target.name:>8}: {rps:8.0f} req/s  p99 {p99:6.2f} ms"
                f"  cpu {cpu_us:6.1f} us/request"
            )
    return results


def report(results: dict[str, list[Round]]) -> None:
    """Medians, and two ratios per reference: req/s, and server CPU per request.

    While the server saturates its core the two agree (CPU per request is then 1 / req/s); when
    it waits (on Redis, say) CPU per request is what a request costs it, idle time excluded.
    """
    med = {
        name: Round(
            statistics.median(r.rps for r in rows),
            statistics.median(r.p99_ms for r in rows),
            statistics.median(r.cpu_us for r in rows),
        )
        for name, rows in results.items()
    }
    for name, m in med.items():
        print(
            f"{name:>8}: median {m.rps:8.0f} req/s   p99 {m.p99_ms:6.2f} ms"
            f"   cpu {m.cpu_us:6.1f} us/request"
        )
    ours = med["ours"]
    for name, m in med.items():
        if name.startswith("bare"):
            print(
                f"ratio ours / {name}: req/s {ours.rps / m.rps:.3f},"
                f" by CPU per request {m.cpu_us / ours.cpu_us:.3f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="default", choices=sorted(SCENARIOS))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--method",
        choices=["wrk", "callgrind"],
        default="wrk",
        help="wrk: throughput; callgrind: instructions per request (repeatable on a busy machine)",
    )
    parser.add_argument(
        "--callgrind-seconds", type=int, default=15, help="length of the measured callgrind run"
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    print(
        f"scenario {args.scenario}: {args.rounds} rounds x {args.seconds}s,"
        f" {args.connections} connections"
    )
    targets = [bare(8700), bare(8701, access_log=True), ours(8702, SCENARIOS[args.scenario])]
    beside: subprocess.Popen[bytes] | None = None  # a server the scenario needs
    # part: redis
    beside = start_redis() if args.scenario == "redis" else None
    # end part: redis
    try:
        if args.method == "callgrind":
            counts = {
                t.name: instructions_per_request(
                    t, 8710, args.callgrind_seconds, args.connections, start
                )
                for t in targets
            }
            for name, count in counts.items():
                print(f"{name:>8}: {count:10.0f} instructions/request")
            for name, count in counts.items():
                if name.startswith("bare"):
                    print(f"ratio {name} / ours (instructions): {count / counts['ours']:.3f}")
            return
        with tempfile.TemporaryDirectory() as tmp:
            targets[-1].log = Path(tmp) / "ours.log"
            report(measure(targets, args.rounds, args.seconds, args.connections))
            # part: redis
            redis_round_trips(targets[-1].log)
            # end part: redis
    finally:
        if beside is not None:
            beside.terminate()
            beside.wait()


if __name__ == "__main__":
    main()
