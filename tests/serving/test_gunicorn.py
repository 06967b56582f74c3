"""gunicorn with deploy/gunicorn.conf.py as real processes: several workers serve, their
Prometheus counters are summed, a slowloris client is cut at the head deadline, and SIGTERM
lets an in-flight request finish, refuses new connections and exits 0."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx

from tests.servers import ServedProcess, free_port
from tests.serving.gunicorn import gunicorn_command, gunicorn_env, gunicorn_process
from tests.serving.raw import closed_by_server, connect, send_quietly, try_request
from tests.serving.slow_app import STARTED

REQUESTS = 40
PATIENCE = 6.0  # several head deadlines: a worker without the deadline is caught
HEAD = b"GET /health HTTP/1.1\r\nHost: t\r\nX-Padding: " + b"p" * 200 + b"\r\n\r\n"
ROUTE = 'route="/api/v1/health/live"'


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "APP_ENVIRONMENT": "test",
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/app.db",
        "RATE_LIMIT_ENABLED": "false",
        # Generous for a loaded machine: the arbiter kills a worker silent for this long.
        "SERVER_WORKER_HEALTHCHECK_SECONDS": "30",
        **extra,
    }


def _served(text: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("http_requests_total{") and ROUTE in line
    )


def test_two_workers_serve_and_every_scrape_sums_both(tmp_path: Path) -> None:
    env = _env(
        tmp_path,
        SERVER_WORKERS="2",
        TELEMETRY_MODE="prometheus",
        TELEMETRY_METRICS_PUBLIC="true",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
    )
    with gunicorn_process(tmp_path, env) as server:
        pids = set()
        for _ in range(REQUESTS):  # a new connection each: the kernel spreads them
            pids.add(httpx.get(f"{server.base}/test/pid", timeout=5).json()["pid"])
            assert httpx.get(f"{server.base}/api/v1/health/live", timeout=5).status_code == 200
        scrapes = [httpx.get(f"{server.base}/metrics", timeout=5).text for _ in range(6)]
    assert len(pids) == 2 and server.process.pid not in pids, pids
    # Whichever worker answers the scrape, it counts both workers' requests.
    assert [_served(text) for text in scrapes] == [REQUESTS] * 6


def test_a_slowloris_connection_is_closed_at_the_head_deadline(tmp_path: Path) -> None:
    with gunicorn_process(tmp_path, _env(tmp_path, SERVER_HEADER_TIMEOUT_SECONDS="1")) as server:
        trickling = connect(server.port)
        started = time.monotonic()
        sent = 0
        while time.monotonic() - started < PATIENCE and not closed_by_server(trickling):
            send_quietly(trickling, HEAD[sent : sent + 1])  # one byte at a time, never the end
            sent += 1
            time.sleep(0.1)
        assert closed_by_server(trickling), f"still open after {sent} header bytes"
        # The worker is still serving others.
        assert httpx.get(f"{server.base}/health", timeout=5).status_code == 200


def _slow_request(server: ServedProcess, seconds: float, into: list[httpx.Response]) -> None:
    into.append(httpx.get(f"{server.base}/test/slow?seconds={seconds}", timeout=30))


def test_sigterm_finishes_the_request_in_flight_refuses_new_ones_and_exits_0(
    tmp_path: Path,
) -> None:
    env = _env(tmp_path, SERVER_WORKERS="2", SERVER_GRACEFUL_SHUTDOWN_SECONDS="20")
    with gunicorn_process(tmp_path, env) as server:
        answers: list[httpx.Response] = []
        slow = threading.Thread(target=_slow_request, args=(server, 4.0, answers))
        slow.start()
        deadline = time.monotonic() + 10
        while not (tmp_path / STARTED).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (tmp_path / STARTED).exists(), "the slow request never started"
        server.process.send_signal(signal.SIGTERM)
        attempts = []
        while slow.is_alive() and "refused" not in attempts:
            attempts.append(try_request(server.port))
            time.sleep(0.1)
        refused_in_flight = slow.is_alive()
        slow.join(timeout=30)
        assert server.process.wait(timeout=30) == 0
    assert "refused" in attempts and refused_in_flight, attempts
    assert "left waiting" not in attempts, attempts
    [answer] = answers
    assert answer.status_code == 200
    assert answer.json() == {"slept": 4.0}


def test_what_several_workers_cannot_serve_stops_the_arbiter(tmp_path: Path) -> None:
    env = _env(tmp_path, SERVER_WORKERS="2", TELEMETRY_MODE="prometheus")
    refused = subprocess.run(
        gunicorn_command(free_port()),
        cwd=tmp_path,
        env=gunicorn_env({**env, "TELEMETRY_METRICS_PORT": str(free_port())}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 1
    assert "Error: TELEMETRY_METRICS_PORT serves one process's metrics" in refused.stderr
