"""The metrics catalogue: every series family the service exports with
TELEMETRY_MODE=prometheus, with its type, labels and help, read from a running app's registry
(so it cannot drift from the code): `example-service monitor metrics`, and docs/metrics.md.

The app runs in-process on a temporary SQLite database with every threshold at its lowest, and
serves a few requests, so that families whose labels appear with their first observation show
them. prometheus-client's own process and Python collectors depend on the platform (process_*
exists on Linux only): docs/metrics.md names them in a sentence instead of listing them.
"""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx

from example_service.app import create_app
from example_service.db.migrate import alembic_config, upgrade
from example_service.settings import (
    DatabaseSettings,
    LogSettings,
    OutboundSettings,
    SecuritySettings,
    Settings,
    TelemetrySettings,
)

MACHINE = ("process_", "python_")  # prometheus-client's collectors: per platform


@dataclass(frozen=True, slots=True)
class MetricDoc:
    name: str
    type: str
    labels: tuple[str, ...]
    help: str


def catalogue() -> list[MetricDoc]:
    return asyncio.run(_collect())


async def _collect() -> list[MetricDoc]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'catalogue.db'}"
        await asyncio.to_thread(upgrade, alembic_config(url))
        settings = Settings(
            database=DatabaseSettings(url=url, slow_query_seconds=1e-9),
            log=LogSettings(level="ERROR", slow_request_seconds=1e-9),
            telemetry=TelemetrySettings(mode="prometheus", metrics_public=True),
            # One outbound service (never called) and the abuse protection, so that their
            # families are listed too.
            outbound=OutboundSettings(services={"example": "http://127.0.0.1:9"}),
            security=SecuritySettings(enable_ddos_protection=True, enable_alerting=True),
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://c") as client:
                await client.get("/api/v1/users/me")  # a 401 after a database-free check
                await client.get("/health")
                await client.get("/api/v1/health/ready")  # the dependency statuses
            registry = app.state.telemetry.registry
            families = list(registry.collect())
    docs = []
    for family in families:
        labels = sorted({name for sample in family.samples for name in sample.labels} - {"le"})
        docs.append(
            MetricDoc(_exported_name(family), family.type, tuple(labels), family.documentation)
        )
    return sorted(docs, key=lambda doc: doc.name)


def _exported_name(family: object) -> str:
    name = str(getattr(family, "name", ""))
    kind = getattr(family, "type", "")
    return f"{name}_total" if kind == "counter" and not name.endswith("_total") else name


def markdown(docs: list[MetricDoc]) -> str:
    lines = [
        "# Metrics",
        "",
        "What `TELEMETRY_MODE=prometheus` exports (`example-service monitor metrics --markdown`",
        "prints this file; a test checks it against the code). Labels are bounded: route",
        "templates, status codes, known methods, dependency, cache and operation names.",
        "",
        "| name | type | labels | help |",
        "|---|---|---|---|",
    ]
    for doc in docs:
        if doc.name.startswith(MACHINE):
            continue
        labels = ", ".join(f"`{label}`" for label in doc.labels) or "-"
        lines.append(f"| `{doc.name}` | {doc.type} | {labels} | {doc.help} |")
    lines += [
        "",
        "And prometheus-client's own collectors: `process_*` (CPU, memory, file descriptors;",
        "on Linux) and `python_*` (garbage collection, interpreter version).",
    ]
    return "\n".join(lines) + "\n"
