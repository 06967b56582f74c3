"""The metrics catalogue is read from the code (a running app's registry), docs/metrics.md is
what it prints, and every metric follows Prometheus's naming conventions with bounded labels."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from typer.testing import CliRunner

from example_service.cli import build_cli
from example_service.observability.catalogue import MetricDoc, catalogue, markdown

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "metrics.md"
# Labels whose values a client chooses: never a label.
UNBOUNDED = {"path", "url", "user", "user_id", "id", "email", "client", "address", "key", "token"}


def unmarked(text: str) -> str:
    """The text without the lines that mark an optional part's rows (scripts/parts.py): the
    template has them, a generated project not."""
    spec = importlib.util.spec_from_file_location("parts", ROOT / "scripts" / "parts.py")
    assert spec is not None and spec.loader is not None
    parts = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(parts)
    return str(parts.strip(text, ()))


def test_docs_metrics_md_is_what_the_code_exports() -> None:
    assert unmarked(DOC.read_text()) == markdown(catalogue()), (
        "docs/metrics.md is stale: example-service monitor metrics --markdown > docs/metrics.md"
        " (then mark the rows of the optional parts' metrics again: CONTRIBUTING.md)"
    )


def test_names_follow_the_conventions() -> None:
    docs = catalogue()
    names = {doc.name for doc in docs}
    assert {"http_requests_total", "http_request_duration_seconds"} <= names
    assert "circuit_breaker_state" in names
    assert {"cache_hits_total", "slow_queries_total", "db_pool_size"} <= names
    assert {"process_resident_memory_bytes", "python_gc_collections_total"} <= names
    for doc in docs:
        check(doc)


def check(doc: MetricDoc) -> None:
    assert doc.name == doc.name.lower() and " " not in doc.name, doc
    assert doc.help, doc
    if doc.type == "counter":
        assert doc.name.endswith("_total"), doc
    else:
        assert not doc.name.endswith("_total"), doc
    if doc.type == "histogram":
        assert doc.name.endswith(("_seconds", "_bytes")), doc  # base units
    assert not set(doc.labels) & UNBOUNDED, doc


def test_the_command_lists_them() -> None:
    result = CliRunner().invoke(build_cli(), ["monitor", "metrics"])
    assert result.exit_code == 0
    listed = [line.split()[0] for line in result.stdout.splitlines()]
    assert "http_requests_total" in listed and "circuit_breaker_state" in listed
