"""A real Prometheus (Debian's) scraping a real server process with the configuration
`monitor prometheus-config` prints and the shipped alert rules: the target is up, every series
the rules use exists, and every rule evaluates without error."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from example_service.db.migrate import alembic_config, upgrade
from tests.contract.test_schemathesis import SERVER_ENV
from tests.identity import PASSWORD
from tests.observability.test_alerts import ROOT, RULES
from tests.servers import RedisServer, _missing, free_port, served_app

# By its folder: the file keeps the template's name in a project made from it.
(DASHBOARD,) = (ROOT / "deploy" / "grafana" / "dashboards").glob("*.json")
TOKEN = "scrape-token-0123456789"
# Metric names in rule expressions: what the service exports, and `up`.
_METRIC = re.compile(
    r"\b(up|[a-z_]+_(?:total|bytes|seconds_bucket|seconds_count|seconds|state|size|connections))\b"
)


def metric_names() -> set[str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    exprs = [rule["expr"] for group in groups for rule in group["rules"]]
    return {name for expr in exprs for name in _METRIC.findall(str(expr))}


@pytest.fixture
def service(postgres_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    upgrade(alembic_config(postgres_url))
    shared: dict[str, str] = {}
    # part: redis
    redis_server: RedisServer = request.getfixturevalue("redis_server")
    shared["REDIS_URL"] = redis_server.url
    # end part: redis
    env = {
        **SERVER_ENV,
        **shared,
        "DATABASE_URL": postgres_url,
        "CACHE_PREFIX": f"prom{free_port()}:",
        "RATE_LIMIT_PREFIX": f"prom{free_port()}:",
        "TELEMETRY_MODE": "prometheus",
        "TELEMETRY_METRICS_TOKEN": TOKEN,
        "OUTBOUND_SERVICES": '{"payments": "http://127.0.0.1:9"}',  # never called: its series
        "SECURITY_ENABLE_DDOS_PROTECTION": "true",  # and the abuse layer's
        "SECURITY_ENABLE_ALERTING": "true",
        # Every request and statement is "slow": their counters get series at once.
        "LOG_SLOW_REQUEST_SECONDS": "0.000001",
        "DATABASE_SLOW_QUERY_SECONDS": "0.000001",
    }
    with served_app(tmp_path, env) as base:
        yield base


@pytest.fixture
def prometheus(service: str, tmp_path: Path) -> Iterator[str]:
    binary = shutil.which("prometheus")
    if binary is None:
        _missing("prometheus", "apt-get install prometheus")
    assert binary is not None
    (tmp_path / "token").write_text(TOKEN)
    target = service.removeprefix("http://")
    command = [sys.executable, "-m", "example_service", "monitor", "prometheus-config"]
    printed = subprocess.run(
        [*command, "--target", target, "--token-file", str(tmp_path / "token")],
        env={"TELEMETRY_MODE": "prometheus", "TELEMETRY_METRICS_TOKEN": TOKEN, "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    config = tmp_path / "prometheus.yml"
    config.write_text(printed.replace("15s", "1s"))  # scrape and evaluate every second here
    shutil.copy(RULES, tmp_path / "alerts.yml")
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def query(prometheus: str, promql: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{prometheus}/api/v1/query", params={"query": promql}, timeout=5).json()
    assert answer["status"] == "success", answer
    result: list[dict[str, Any]] = answer["data"]["result"]
    return result


def eventually(check: Any, within: float = 30.0) -> Any:
    deadline = time.monotonic() + within
    while True:
        try:
            found = check()
        except httpx.TransportError:
            found = None
        if found:
            return found
        assert time.monotonic() < deadline, "not within the deadline"
        time.sleep(0.25)


def traffic(base: str) -> None:
    account = {"email": "prom@example.com", "password": PASSWORD}
    with httpx.Client(base_url=base, timeout=10) as client:
        assert client.post("/api/v1/users", json=account).status_code == 201
        token = client.post("/api/v1/auth/login", json=account).json()["access_token"]
        for _ in range(3):
            me = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
            assert me.status_code == 200
        bad = {**account, "password": "wrong-password"}
        assert client.post("/api/v1/auth/login", json=bad).status_code == 401
        assert client.post("/api/v1/users", json={"email": "nope"}).status_code == 422
        assert client.get("/api/v1/nowhere").status_code == 404
        assert client.get("/api/v1/health/ready").status_code == 200  # dependency_status


def test_prometheus_scrapes_every_series_the_rules_use(service: str, prometheus: str) -> None:
    traffic(service)
    up = eventually(lambda: query(prometheus, 'up{job="example-service"} == 1'))
    assert up[0]["metric"]["instance"] == service.removeprefix("http://")
    eventually(lambda: query(prometheus, 'slow_requests_total{route="/api/v1/auth/login"}'))
    names = metric_names()
    assert {"http_requests_total", "circuit_breaker_state", "db_pool_size"} <= names
    missing = {name for name in names if not query(prometheus, f'count({{__name__="{name}"}})')}
    assert not missing, f"no series for {sorted(missing)}"

    def evaluated() -> list[dict[str, Any]] | None:
        answer = httpx.get(f"{prometheus}/api/v1/rules", timeout=5).json()
        rules = [rule for group in answer["data"]["groups"] for rule in group["rules"]]
        return rules if rules and all(rule["health"] != "unknown" for rule in rules) else None

    rules = eventually(evaluated)
    groups = yaml.safe_load(RULES.read_text())["groups"]
    assert len(rules) == sum(len(group["rules"]) for group in groups)
    assert [rule["name"] for rule in rules if rule["health"] != "ok"] == []


def panel_queries() -> list[tuple[str, str]]:
    """(panel title, expression) of every panel target, with the dashboard's variables as
    Grafana would fill them in for the test's single instance."""
    dashboard = json.loads(DASHBOARD.read_text())
    values = {
        "$__rate_interval": "1m",
        "$job": "example-service",
        "$instance": ".*",
        "$route": ".*",
    }
    queries = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"]
            for name, value in values.items():
                expr = expr.replace(name, value)
            queries.append((panel["title"], expr))
    return queries


def test_every_dashboard_panel_returns_data(service: str, prometheus: str) -> None:
    traffic(service)
    # Two samples at least in every 1-minute rate window.
    eventually(lambda: query(prometheus, 'count_over_time(up{job="example-service"}[1m]) >= 3'))
    eventually(lambda: query(prometheus, "count_over_time(slow_requests_total[1m]) >= 3"))
    queries = panel_queries()
    assert len(queries) >= 20
    empty = [(title, expr) for title, expr in queries if not query(prometheus, expr)]
    assert not empty, empty


def test_the_dashboard_is_wired_to_its_variables() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["refresh"] and dashboard["uid"] == "example-service"
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    assert {"datasource", "job", "instance", "route"} <= variables
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    for panel in panels:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        for target in panel["targets"]:
            assert 'job="$job"' in target["expr"], panel["title"]
    annotations = [a.get("expr", "") for a in dashboard["annotations"]["list"]]
    assert any("ALERTS" in expr for expr in annotations)  # firing alerts on every panel
