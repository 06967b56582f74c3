"""`serve --workers 2` with Prometheus: whichever worker a scrape reaches, the counters are the
service's totals (prometheus-client's multiprocess mode)."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from tests.servers import serve_process

REQUESTS = 40
ROUTE = 'route="/api/v1/health/live"'


def served(text: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("http_requests_total{") and ROUTE in line
    )


def worker_count(counters: Path, tmp_path: Path) -> float:
    """The requests one worker counted: its file alone, read as a scrape would read it."""
    alone = tmp_path / f"alone-{counters.stem}"
    alone.mkdir()
    shutil.copy(counters, alone / counters.name)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, str(alone))  # type: ignore[no-untyped-call]
    return served(generate_latest(registry).decode())


def test_every_scrape_sums_both_workers(tmp_path: Path) -> None:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"stale")  # an earlier run's: emptied at start
    env = {
        "APP_ENVIRONMENT": "test",
        "LOG_LEVEL": "WARNING",
        "TELEMETRY_MODE": "prometheus",
        "TELEMETRY_METRICS_PUBLIC": "true",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/app.db",
        "RATE_LIMIT_ENABLED": "false",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    with serve_process(tmp_path, env, ["--workers", "2"], timeout=60) as server:
        for _ in range(REQUESTS):  # a new connection each: the kernel spreads them
            assert httpx.get(f"{server.base}/api/v1/health/live", timeout=5).status_code == 200
        per_worker = [worker_count(path, tmp_path) for path in metrics_dir.glob("counter_*.db")]
        assert len(per_worker) == 2 and min(per_worker) > 0, per_worker  # both served some
        scrapes = [httpx.get(f"{server.base}/metrics", timeout=5).text for _ in range(6)]
    assert [served(text) for text in scrapes] == [REQUESTS] * 6
