"""OpenTelemetry traces (TELEMETRY_OTEL=true, `pip install example-service[otel]`).

FastAPI's native telemetry opens the server span of each request (named by the route template)
and continues a trace from `traceparent`; this module adds what happens inside it:

- the tracer provider, when the process has none yet: the SDK's, with the service's name and
  version, exporting over OTLP when OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set (the SDK reads
  the standard OTEL_* variables itself);
- a span per SQL statement (opentelemetry-instrumentation-sqlalchemy, statement text only, never
  its parameters) and per outbound HTTP call (opentelemetry-instrumentation-httpx);
# part: redis
- a span per Redis command (ours, RedisSpans: the auto-pipeline sends raw batches no Redis
  instrumentation sees);
# end part: redis
- trace and span ids in every log line written inside a span (observability/logging.py);
- the trace id as an exemplar on the request-duration histogram (PrometheusTelemetry).

Without TELEMETRY_OTEL none of this is imported or installed.
"""

from __future__ import annotations

import os
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode

from example_service.settings import Settings

_TRACER = "example_service"


def ensure_provider(settings: Settings) -> None:
    """The SDK's tracer provider, unless the process configured one already (a test, an
    agent such as opentelemetry-instrument)."""
    if not _unconfigured(trace.get_tracer_provider()):
        return
    from opentelemetry.sdk.resources import Resource  # noqa: PLC0415
    from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415

    provider = TracerProvider(
        resource=Resource.create(
            {"service.name": settings.app.name, "service.version": settings.app.version}
        )
    )
    if os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    ):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415
            OTLPSpanExporter,
        )
        from opentelemetry.sdk.trace.export import BatchSpanProcessor  # noqa: PLC0415

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)


def _unconfigured(provider: Any) -> bool:
    return isinstance(provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider)


def instrument_engine(engine: Any) -> None:
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor  # noqa: PLC0415

    # skip_dep_check: the instrumentation declares SQLAlchemy < 2.1 while working with 2.1 (it
    # hooks the engine's public cursor events); tests/observability/test_tracing.py proves it.
    SQLAlchemyInstrumentor().instrument(
        engine=engine.sync_engine, enable_commenter=False, skip_dep_check=True
    )


def instrument_http(client: Any) -> None:
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor  # noqa: PLC0415

    HTTPXClientInstrumentor.instrument_client(client)


# part: redis
class RedisSpans:
    """A client span per Redis command, from its enqueueing to its reply (redis/pipeline.py)."""

    def __init__(self) -> None:
        self.tracer = trace.get_tracer(_TRACER)

    def __call__(self, future: Any, command: str) -> None:
        span = self.tracer.start_span(
            command,
            kind=SpanKind.CLIENT,
            attributes={"db.system.name": "redis", "db.operation.name": command},
        )

        def done(finished: Any) -> None:
            if finished.cancelled() or finished.exception() is not None:
                span.set_status(StatusCode.ERROR)
            span.end()

        future.add_done_callback(done)


# end part: redis


def current_ids() -> tuple[str, str] | None:
    """(trace id, span id) of the current span, in hex, or None outside one."""
    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")
