"""Prometheus with several worker processes (`serve --workers N`): prometheus-client's
multiprocess mode.

Each worker's counters and histograms live in memory-mapped files under PROMETHEUS_MULTIPROC_DIR
(prometheus-client picks that storage when the variable is set before it is imported, so
`serve` sets it before any worker starts), and a scrape of any worker sums every worker's files:
the totals are the service's, whichever worker answers. Collectors that read live state at
scrape time (breakers, the database pool, event-loop lag, process figures) answer for the
scraped worker only; scrape each process on its own port (`--workers 1` per process) when those
matter per process.

The directory is `serve`'s own temporary one unless PROMETHEUS_MULTIPROC_DIR is set; either way
it is emptied at start, since files of an earlier run would be summed into this one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

ENV = "PROMETHEUS_MULTIPROC_DIR"


def enabled() -> bool:
    return bool(os.environ.get(ENV))


@contextlib.contextmanager
def directory() -> Iterator[Path]:
    """Set PROMETHEUS_MULTIPROC_DIR (this process's and its workers'), emptied, for the block."""
    given = os.environ.get(ENV)
    path = Path(given) if given else Path(tempfile.mkdtemp(prefix="example-service-metrics-"))
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
    os.environ[ENV] = str(path)
    try:
        yield path
    finally:
        if not given:
            shutil.rmtree(path, ignore_errors=True)
            os.environ.pop(ENV, None)


def registry(live: list[Any]) -> CollectorRegistry:
    """Every worker's counters and histograms, and `live` collectors of this worker."""
    # Imported here, not with the module: gunicorn's arbiter imports this module to set the
    # directory before it forks, and prometheus-client chooses its storage when first imported.
    from prometheus_client import CollectorRegistry  # noqa: PLC0415
    from prometheus_client.multiprocess import MultiProcessCollector  # noqa: PLC0415

    combined = CollectorRegistry()
    MultiProcessCollector(combined)  # type: ignore[no-untyped-call] # no annotations upstream
    for collector in live:
        combined.register(collector)
    return combined
