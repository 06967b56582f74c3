"""Slow SQL: a statement slower than DATABASE_SLOW_QUERY_SECONDS is logged (`db.slow_query`)
with its SQL text, never its bound values (they are users' data), and counted by its first
keyword. The request id comes with it from the log context, so the line leads to the request.
"""

from __future__ import annotations

from time import perf_counter
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from example_service.observability.logging import get_logger, scrub_text
from example_service.observability.telemetry import SQL_OPERATIONS, Telemetry

logger = get_logger("example_service.db")
_STARTED = "slow_query_started"
MAX_STATEMENT_CHARS = 2000  # a generated IN (...) list can run long: the line stays bounded


def operation_of(statement: str) -> str:
    """The statement's first keyword when it is a common one, else OTHER (a bounded label)."""
    first = statement.lstrip().split(None, 1)
    word = first[0].upper() if first else ""
    return word if word in SQL_OPERATIONS else "OTHER"


def watch_slow_queries(engine: AsyncEngine, seconds: float, telemetry: Telemetry) -> None:
    """Time every statement of `engine` (two perf_counter calls) and report the slow ones."""
    if seconds <= 0:
        return

    # One start per connection: its statements run one after another, and a statement that
    # fails (no `after`) leaves nothing behind but a value the next one overwrites.
    def before(conn: Any, _cursor: Any, _statement: str, *_: Any) -> None:
        conn.info[_STARTED] = perf_counter()

    def after(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        elapsed = perf_counter() - conn.info.get(_STARTED, perf_counter())
        if elapsed >= seconds:
            operation = operation_of(statement)
            logger.warning(
                "db.slow_query",
                operation=operation,
                statement=scrub_text(statement[:MAX_STATEMENT_CHARS]),
                duration_ms=round(elapsed * 1000.0, 3),
                threshold_ms=round(seconds * 1000.0, 3),
            )
            telemetry.count_slow_query(operation)

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    event.listen(engine.sync_engine, "after_cursor_execute", after)
