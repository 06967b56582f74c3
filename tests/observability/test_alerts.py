"""The alert rules (deploy/prometheus/alerts.yml) under promtool: they load, and each alert
fires on synthetic series that should fire it and stays quiet on healthy ones.

The cases are written here, compactly; the test writes them as a promtool unit-test file
(annotations copied from the rules, which promtool compares too) and runs `promtool test rules`.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.servers import _missing

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
JOB = 'job="example-service",instance="a:8000"'


def req(status: str, values: str, route: str = "/api/v1/things") -> tuple[str, str]:
    labels = f'method="GET",route="{route}",status="{status}"'
    return (f"http_requests_total{{{labels}}}", values)


def retried(outcome: str, values: str) -> tuple[str, str]:
    return (f'outbound_retried_calls_total{{service="payments",outcome="{outcome}"}}', values)


# part: tasks
def task(status: str, values: str) -> tuple[str, str]:
    return (f'tasks_completed_total{{task="purge",status="{status}"}}', values)


# end part: tasks


def cred(outcome: str, values: str) -> tuple[str, str]:
    return (f'auth_credentials_total{{scheme="bearer",outcome="{outcome}"}}', values)


def out(outcome: str, values: str) -> tuple[str, str]:
    return (f'outbound_requests_total{{service="payments",outcome="{outcome}"}}', values)


def buckets(fast: str, total: str, le: str = "0.5") -> list[tuple[str, str]]:
    """Duration buckets: `fast` requests under `le`, `total` in all."""
    return [
        (f'http_request_duration_seconds_bucket{{le="{le}"}}', fast),
        ('http_request_duration_seconds_bucket{le="+Inf"}', total),
        ("http_request_duration_seconds_count", total),
    ]


@dataclass
class Case:
    alert: str
    series: list[tuple[str, str]]
    at: str  # when to evaluate
    labels: dict[str, str] | None = field(default_factory=dict)  # None: quiet


OK = req("200", "0+60x400")  # one request a second, for 400 minutes
SLOW_BUCKETS = [
    ('http_request_duration_seconds_bucket{le="2.5"}', "0+0x30"),
    ('http_request_duration_seconds_bucket{le="5.0"}', "0+60x30"),
    ('http_request_duration_seconds_bucket{le="+Inf"}', "0+60x30"),
]
FAST_BUCKETS = [
    ('http_request_duration_seconds_bucket{le="0.1"}', "0+60x30"),
    ('http_request_duration_seconds_bucket{le="+Inf"}', "0+60x30"),
]
FLAPPING = " ".join(["0 2"] * 10)

CASES = [
    Case(
        "ServiceDown",
        [(f"up{{{JOB}}}", "0x10")],
        "5m",
        {"job": "example-service", "instance": "a:8000"},
    ),
    Case("ServiceDown", [(f"up{{{JOB}}}", "1x10")], "5m", None),
    Case("HighErrorRate", [OK, req("400", "0+10x20")], "15m"),
    Case("HighErrorRate", [OK, req("404", "0+30x20"), req("429", "0+30x20")], "15m", None),
    Case("High5xxErrorRate", [OK, req("503", "0+2x20")], "15m"),
    Case("High5xxErrorRate", [OK, req("500", "0+0x20")], "15m", None),
    Case("HighResponseTime", [OK, *SLOW_BUCKETS], "20m"),
    Case("HighResponseTime", [OK, *FAST_BUCKETS], "20m", None),
    Case("HighSlowRequestRate", [OK, ("slow_requests_total", "0+6x30")], "20m"),
    Case("HighSlowRequestRate", [OK, ("slow_requests_total", "0x30")], "20m", None),
    Case("DatabaseUnavailable", [('circuit_breaker_state{breaker="db"}', "2x10")], "5m"),
    Case("DatabaseUnavailable", [('circuit_breaker_state{breaker="db"}', "1x10")], "5m", None),
    Case("HighSlowQueryRate", [('slow_queries_total{operation="SELECT"}', "0+12x30")], "20m"),
    Case("HighSlowQueryRate", [('slow_queries_total{operation="SELECT"}', "0+1x30")], "20m", None),
    Case(
        "DatabaseConnectionPoolExhausted",
        [('db_pool_connections{state="in_use"}', "10x10"), ("db_pool_size", "10x10")],
        "8m",
    ),
    Case(
        "DatabaseConnectionPoolExhausted",
        [('db_pool_connections{state="in_use"}', "9x10"), ("db_pool_size", "10x10")],
        "8m",
        None,
    ),
    Case(
        "CircuitBreakerOpen",
        [('circuit_breaker_state{breaker="redis"}', "2x10")],
        "5m",
        {"breaker": "redis"},
    ),
    Case(
        "UnhealthyDependencies",
        [('dependency_status{dependency="redis",required="false"}', "1x10")],
        "8m",
        {"dependency": "redis", "required": "false"},
    ),
    Case(
        "UnhealthyDependencies",
        [('dependency_status{dependency="redis",required="false"}', "0x10")],
        "8m",
        None,
    ),
    Case("CircuitBreakerOpen", [('circuit_breaker_state{breaker="redis"}', "0x10")], "5m", None),
    Case(
        "CircuitBreakerFlapping",
        [('circuit_breaker_state{breaker="db"}', FLAPPING)],
        "14m",
        {"breaker": "db"},
    ),
    Case("CircuitBreakerFlapping", [('circuit_breaker_state{breaker="db"}', "0x20")], "14m", None),
    Case(
        "ExternalServiceDown",
        [('circuit_breaker_state{breaker="http:payments"}', "2x10")],
        "5m",
        {"breaker": "http:payments"},
    ),
    Case("ExternalServiceDown", [('circuit_breaker_state{breaker="redis"}', "2x10")], "5m", None),
    # part: tasks
    Case(
        "HighTaskFailureRate",
        [task("ok", "0+30x40"), task("failed", "0+10x40")],
        "30m",
        {"task": "purge"},
    ),
    Case("HighTaskFailureRate", [task("ok", "0+30x40"), task("failed", "0+1x40")], "30m", None),
    Case(
        "TasksNotCompleting",
        [('tasks_enqueued_total{task="purge"}', "0+5x40"), task("ok", "0x40")],
        "35m",
    ),
    Case(
        "TasksNotCompleting",
        [('tasks_enqueued_total{task="purge"}', "0+5x40"), task("ok", "0+5x40")],
        "35m",
        None,
    ),
    # end part: tasks
    Case(
        "ExternalServiceErrorRate",
        [out("ok", "0+30x30"), out("error", "0+10x30")],
        "20m",
        {"service": "payments"},
    ),
    Case("ExternalServiceErrorRate", [out("ok", "0+30x30"), out("error", "0+1x30")], "20m", None),
    Case(
        "ExternalServiceLatency",
        [
            ('outbound_request_duration_seconds_bucket{service="payments",le="2.5"}', "0x30"),
            ('outbound_request_duration_seconds_bucket{service="payments",le="+Inf"}', "0+60x30"),
        ],
        "20m",
        {"service": "payments"},
    ),
    Case(
        "ExternalServiceLatency",
        [
            ('outbound_request_duration_seconds_bucket{service="payments",le="0.1"}', "0+60x30"),
            ('outbound_request_duration_seconds_bucket{service="payments",le="+Inf"}', "0+60x30"),
        ],
        "20m",
        None,
    ),
    Case(
        "HighRetryRate",
        [out("ok", "0+30x30"), ('outbound_retries_total{service="payments"}', "0+15x30")],
        "20m",
        {"service": "payments"},
    ),
    Case(
        "HighRetryRate",
        [out("ok", "0+30x30"), ('outbound_retries_total{service="payments"}', "0+1x30")],
        "20m",
        None,
    ),
    Case(
        "EventLoopLag",
        [(f"event_loop_lag_seconds{{{JOB}}}", "0.3x20")],
        "10m",
        {"instance": "a:8000"},
    ),
    Case(
        "HighRetryExhaustionRate",
        [retried("exhausted", "0+6x40"), retried("recovered", "0+2x40")],
        "30m",
        {"service": "payments"},
    ),
    Case(
        "HighRetryExhaustionRate",
        [retried("exhausted", "0+1x40"), retried("recovered", "0+6x40")],
        "30m",
        None,
    ),
    Case("EventLoopLag", [(f"event_loop_lag_seconds{{{JOB}}}", "0.01x20")], "10m", None),
    Case(
        "SecurityAlertRaised",
        [('security_alerts_total{kind="auth_failure",scope="client"}', "0 0 0 1 1 1 1 1")],
        "5m",
        {"kind": "auth_failure", "scope": "client"},
    ),
    Case(
        "SecurityAlertRaised",
        [('security_alerts_total{kind="auth_failure",scope="client"}', "0x10")],
        "5m",
        None,
    ),
    Case("ManyClientsBanned", [('security_bans_total{kind="rate_limit"}', "0+5x30")], "20m"),
    Case("ManyClientsBanned", [('security_bans_total{kind="rate_limit"}', "0+1x30")], "20m", None),
    Case("HighRateLimitHitRate", [OK, req("429", "0+12x30")], "20m"),
    Case("HighRateLimitHitRate", [OK, req("429", "0+1x30")], "20m", None),
    Case("RateLimitAbuse", [req("429", "0+900x30")], "15m"),
    Case("RateLimitAbuse", [req("429", "0+60x30")], "15m", None),
    # part: redis
    Case("RateLimitFallback", [("ratelimit_fallbacks_total", "0+5x20")], "15m"),
    Case("RateLimitFallback", [("ratelimit_fallbacks_total", "0x20")], "15m", None),
    # end part: redis
    Case(
        "HighAuthFailureRate",
        [
            ('auth_logins_total{outcome="failed"}', "0+30x30"),
            ('auth_logins_total{outcome="success"}', "0+30x30"),
        ],
        "20m",
    ),
    Case(
        "HighAuthFailureRate",
        [
            ('auth_logins_total{outcome="failed"}', "0+3x30"),
            ('auth_logins_total{outcome="success"}', "0+30x30"),
        ],
        "20m",
        None,
    ),
    Case("HighInvalidTokenRate", [cred("invalid", "0+20x30"), cred("valid", "0+60x30")], "20m"),
    Case(
        "HighInvalidTokenRate", [cred("invalid", "0+1x30"), cred("valid", "0+60x30")], "20m", None
    ),
    Case("HighAuthorizationDenialRate", [('authz_denials_total{status="404"}', "0+120x30")], "20m"),
    Case(
        "HighAuthorizationDenialRate",
        [('authz_denials_total{status="404"}', "0+6x30")],
        "20m",
        None,
    ),
    Case("HighValidationErrorRate", [OK, req("422", "0+20x30")], "20m"),
    Case("HighValidationErrorRate", [OK, req("422", "0+1x30")], "20m", None),
    Case(
        "LowCacheHitRate",
        [
            ('cache_hits_total{cache="users"}', "0+10x40"),
            ('cache_misses_total{cache="users"}', "0+50x40"),
        ],
        "30m",
        {"cache": "users"},
    ),
    Case(
        "LowCacheHitRate",
        [
            ('cache_hits_total{cache="users"}', "0+50x40"),
            ('cache_misses_total{cache="users"}', "0+10x40"),
        ],
        "30m",
        None,
    ),
    # part: redis
    Case(
        "CacheBackendErrors",
        [('cache_errors_total{cache="users"}', "0+5x20")],
        "15m",
        {"cache": "users"},
    ),
    Case("CacheBackendErrors", [('cache_errors_total{cache="users"}', "0x20")], "15m", None),
    # end part: redis
    Case(
        "HighMemoryUsage",
        [(f"process_resident_memory_bytes{{{JOB}}}", "2e9x20")],
        "15m",
        {"instance": "a:8000"},
    ),
    Case("HighMemoryUsage", [(f"process_resident_memory_bytes{{{JOB}}}", "1e8x20")], "15m", None),
    Case(
        "HighCPUUsage",
        [(f"process_cpu_seconds_total{{{JOB}}}", "0+57x20")],
        "15m",
        {"instance": "a:8000"},
    ),
    Case("HighCPUUsage", [(f"process_cpu_seconds_total{{{JOB}}}", "0+30x20")], "15m", None),
    Case("AvailabilityBudgetFastBurn", [OK, req("500", "0+2x90")], "70m"),
    Case("AvailabilityBudgetFastBurn", [OK, req("500", "0x90")], "70m", None),
    Case("AvailabilityBudgetSlowBurn", [OK, req("500", "0+1x400")], "390m"),
    Case("AvailabilityBudgetSlowBurn", [OK, req("500", "0+0x400")], "390m", None),
    Case("LatencyBudgetFastBurn", buckets("0+30x90", "0+60x90"), "70m"),
    Case("LatencyBudgetFastBurn", buckets("0+60x90", "0+60x90"), "70m", None),
    Case("LatencyBudgetSlowBurn", buckets("0+50x400", "0+60x400"), "390m"),
    Case("LatencyBudgetSlowBurn", buckets("0+59x400", "0+60x400"), "390m", None),
]


def alerts() -> dict[str, dict[str, Any]]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {rule["alert"]: rule for group in groups for rule in group["rules"] if "alert" in rule}


def unit_tests() -> dict[str, Any]:
    rules = alerts()
    tests = []
    for case in CASES:
        expected = []
        if case.labels is not None:
            rule = rules[case.alert]
            labels = {**rule["labels"], **case.labels}
            expected = [{"exp_labels": labels, "exp_annotations": rule["annotations"]}]
        tests.append(
            {
                "interval": "1m",
                "input_series": [{"series": s, "values": v} for s, v in case.series],
                "alert_rule_test": [
                    {"eval_time": case.at, "alertname": case.alert, "exp_alerts": expected}
                ],
            }
        )
    return {"rule_files": [str(RULES)], "evaluation_interval": "1m", "tests": tests}


@pytest.fixture
def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        _missing("promtool", "apt-get install prometheus")
    assert found is not None
    return found


def test_the_rules_load(promtool: str) -> None:
    checked = subprocess.run(
        [promtool, "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_every_alert_fires_and_stays_quiet(promtool: str, tmp_path: Path) -> None:
    covered = {(case.alert, case.labels is None) for case in CASES}
    for name in alerts():
        assert (name, False) in covered and (name, True) in covered, name
    path = tmp_path / "alerts_test.yml"
    path.write_text(yaml.safe_dump(unit_tests(), sort_keys=False))
    ran = subprocess.run(
        [promtool, "test", "rules", str(path)], capture_output=True, text=True, check=False
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr


def test_every_alert_is_documented() -> None:
    for name, rule in alerts().items():
        assert rule.get("for"), name
        assert rule["labels"]["severity"] in ("critical", "warning"), name
        assert {"summary", "description", "runbook"} <= set(rule["annotations"]), name


def test_the_shipped_configurations_are_valid(promtool: str) -> None:
    config = RULES.parent / "prometheus.yml"
    checked = subprocess.run(
        [promtool, "check", "config", "--syntax-only", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    amtool = shutil.which("amtool")
    if amtool is None:
        _missing("amtool", "apt-get install prometheus-alertmanager")
    assert amtool is not None
    routed = subprocess.run(
        [amtool, "check-config", str(RULES.parent / "alertmanager.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert routed.returncode == 0, routed.stdout + routed.stderr
