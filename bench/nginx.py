"""One instance against two behind nginx, and what nginx adds to a request.

    python -m bench.nginx [--rounds 2] [--seconds 5] [--connections 32]

`GET /api/v1/info` on the full default stack (`example-service serve`, one worker per
instance), measured with wrk in three setups, rounds alternating:

- direct: wrk straight to one instance;
- nginx-1: wrk to nginx (deploy/nginx/nginx.conf, rendered as the tests render it) in front
  of that one instance;
- nginx-2: wrk to nginx in front of two instances.

Throughput at `--connections`. nginx's added latency: in the nginx-1 setup, one client sends
requests alternately straight to the instance and through nginx, one at a time on kept-alive
connections (`--samples` of each), and the medians are compared; alternating request by request
cancels the drift of a shared machine that separate runs would not. Nothing
is pinned: on a 2-core machine the instances, nginx's two workers and wrk share both cores, as
they would on a small host, so nginx-2 against direct says what a second instance is worth
there, not what it is worth on a core of its own.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from bench.run import BIN, ROOT, SCENARIOS

PORTS = (8720, 8721)
PATH = "/api/v1/info"
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - loopback only
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing answered {url}")


@contextmanager
def instances(count: int) -> Iterator[list[str]]:
    """`count` instances of the default stack trusting nginx's address; their host:port."""
    env = {
        **os.environ,
        **SCENARIOS["default"],  # limits that never refuse
        "LOG_FORMAT": "json",
        "SECURITY_TRUSTED_PROXIES": "127.0.0.1",
    }
    procs = []
    try:
        for port in PORTS[:count]:
            command = [str(BIN / "example-service"), "serve", "--port", str(port)]
            procs.append(
                subprocess.Popen(
                    command,
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            _ready(f"http://127.0.0.1:{port}{PATH}", procs[-1])
        yield [f"127.0.0.1:{port}" for port in PORTS[:count]]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)


@contextmanager
def setup(name: str) -> Iterator[tuple[str, str]]:
    """The base URL wrk loads for the setup `name`, and the first instance's."""
    from tests.deploy.nginx import Nginx  # noqa: PLC0415 - the tests' own nginx setup

    with instances(2 if name == "nginx-2" else 1) as upstreams:
        direct = f"http://{upstreams[0]}"
        if name == "direct":
            yield direct, direct
            return
        nginx = Nginx(upstreams)
        try:
            nginx.start()
            yield nginx.base, direct
        finally:
            nginx.stop()


def wrk(url: str, seconds: int, connections: int) -> tuple[float, float, float]:
    """req/s, mean and p99 latency (ms)."""
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"non-2xx responses\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    mean = re.search(r"Latency\s+([\d.]+)(us|ms|s)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    if mean is None or p99 is None:
        raise RuntimeError(f"no latency in wrk's output\n{out}")
    return (
        rps,
        float(mean.group(1)) * _UNITS[mean.group(2)],
        float(p99.group(1)) * _UNITS[p99.group(2)],
    )


def added_latency(direct: str, via: str, samples: int) -> tuple[float, float]:
    """Median and 90th percentile latency (us) through nginx minus straight to the instance."""
    times: dict[str, list[float]] = {direct: [], via: []}
    with httpx.Client() as client:
        for base in (direct, via):  # connections opened, caches warm
            for _ in range(50):
                client.get(base + PATH).raise_for_status()
        for _ in range(samples):
            for base in (direct, via):
                start = time.perf_counter()
                client.get(base + PATH).raise_for_status()
                times[base].append(time.perf_counter() - start)

    def stats(values: list[float]) -> tuple[float, float]:
        cuts = statistics.quantiles(values, n=10)
        return statistics.median(values) * 1e6, cuts[-1] * 1e6

    (d50, d90), (v50, v90) = stats(times[direct]), stats(times[via])
    return v50 - d50, v90 - d90


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--samples", type=int, default=3000)
    args = parser.parse_args()
    for tool in ("wrk", "nginx"):
        if not (shutil.which(tool) or os.path.exists(f"/usr/sbin/{tool}")):
            sys.exit(f"{tool} is not installed (apt-get install {tool})")
    names = ("direct", "nginx-1", "nginx-2")
    rps: dict[str, list[float]] = {n: [] for n in names}
    added: list[tuple[float, float]] = []
    p99: dict[str, list[float]] = {n: [] for n in names}
    for round_no in range(args.rounds):
        for name in names:
            with setup(name) as (base, direct):
                url = base + PATH
                wrk(url, 1, args.connections)  # warm-up
                r, _, tail = wrk(url, args.seconds, args.connections)
                if name == "nginx-1":
                    added.append(added_latency(direct, base, args.samples))
            rps[name].append(r)
            p99[name].append(tail)
            print(f"  round {round_no + 1} {name:>8}: {r:7.0f} req/s (p99 {tail:6.2f} ms)")
            if name == "nginx-1":
                print(
                    f"  round {round_no + 1} nginx adds {added[-1][0]:.0f} us at the median,"
                    f" {added[-1][1]:.0f} us at p90"
                )
    med = {n: statistics.median(rps[n]) for n in names}
    for name in names:
        print(
            f"{name:>8}: median {med[name]:7.0f} req/s   p99 {statistics.median(p99[name]):6.2f} ms"
        )
    print(f"nginx-2 / direct: {med['nginx-2'] / med['direct']:.2f}x req/s")
    print(f"nginx-1 / direct: {med['nginx-1'] / med['direct']:.2f}x req/s")
    at50 = statistics.median(a[0] for a in added)
    at90 = statistics.median(a[1] for a in added)
    print(f"nginx's added latency per request: {at50:.0f} us at the median, {at90:.0f} us at p90")


if __name__ == "__main__":
    main()
