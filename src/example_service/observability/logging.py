"""structlog configuration: one JSON object per line (or console), stdlib records included.

Our own loggers write bytes straight to the sink (no stdlib round trip on the hot path); stdlib
records from uvicorn, SQLAlchemy and libraries go through the same processors and the same sink,
so every line has one shape. Sensitive keys are redacted before rendering.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import threading
from collections.abc import MutableMapping
from typing import IO, Any

import orjson
import structlog
from structlog._config import BoundLoggerLazyProxy
from structlog.typing import EventDict, Processor, WrappedLogger

from example_service.observability.context import request_id_var
from example_service.settings import LogSettings

REDACTED = "***"
_SENSITIVE_PARTS = (
    "password",
    "passwd",
    "secret",
    "token",
    "authorization",
    "api_key",
    "apikey",
    "x-api-key",
    "cookie",
    "credential",
    "hashed",
)
_sensitive_cache: dict[str, bool] = {}


def _is_sensitive(key: str) -> bool:
    hit = _sensitive_cache.get(key)
    if hit is None:
        lowered = key.lower()
        hit = any(part in lowered for part in _SENSITIVE_PARTS)
        if len(_sensitive_cache) < 4096:
            _sensitive_cache[key] = hit
    return hit


def mask_email(value: str) -> str:
    local, at, domain = value.partition("@")
    if not at:
        return REDACTED
    return f"{local[:1]}***@{domain}"


def _redact_value(key: str, value: Any, depth: int = 0) -> Any:
    if _is_sensitive(key):
        return REDACTED
    if isinstance(value, str) and key.lower() == "email":
        return mask_email(value)
    if isinstance(value, MutableMapping) and depth < 4:
        return {k: _redact_value(str(k), v, depth + 1) for k, v in value.items()}
    return value


def redact(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
    """Mask secrets (by key name) and e-mail addresses anywhere in the event."""
    for key, value in event_dict.items():
        if key == "event":
            continue
        if _is_sensitive(key) or isinstance(value, MutableMapping) or key == "email":
            event_dict[key] = _redact_value(key, value)
    return event_dict


# Free text we do not write ourselves (exception messages and tracebacks, library messages) can
# carry what a key name does not announce: a driver's message quotes the row it refused, and a
# SQL error lists its bound parameters. Engines are built with hide_parameters=True; this is the
# second line, on every line that has free text.
_EMAIL = re.compile(r"([A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]*@([A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)")
_PASSWORD_HASH = re.compile(r"\$(?:argon2(?:id|i|d)|2[abxy]|pbkdf2[\w-]*|scrypt)\$[^\s'\",)\]]*")
_SQL_PARAMETERS = re.compile(r"\[parameters: .*?\](?=\s*(?:\n|\(|$))", re.DOTALL)
# A credential in a URL's query (`?access_token=...`, `&api_key=...`), as a client library logs
# the URLs it calls.
_QUERY_SECRET = re.compile(
    r"([?&;][\w.\-]*(?:token|passw|secret|api[_\-]?key|signature|sig|auth)[\w.\-]*=)"
    r"[^&#\s\"']+",
    re.IGNORECASE,
)
_FREE_TEXT_KEYS = ("exception", "error", "reason", "detail", "message")


def scrub_text(text: str) -> str:
    """`text` with e-mail addresses masked, password hashes, SQL parameters and credentials in
    URL queries removed."""
    if "=" in text:
        text = _QUERY_SECRET.sub(r"\1***", text)
    if "[parameters:" in text:
        text = _SQL_PARAMETERS.sub("[parameters: ***]", text)
    if "$" in text:
        text = _PASSWORD_HASH.sub(REDACTED, text)
    if "@" in text:
        text = _EMAIL.sub(r"\1***@\2", text)
    return text


def scrub_free_text(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
    """`scrub_text` over the rendered exception and the free-text fields, stdlib messages too."""
    for key in (*_FREE_TEXT_KEYS, "event"):
        value = event_dict.get(key)
        if isinstance(value, str):
            event_dict[key] = scrub_text(value)
    return event_dict


# C0 and C1 control characters and DEL, as \x.. escapes: a terminal must not receive a raw ESC
# (or a line break that forges a line) from a request path or header. JSON escapes them itself.
_CONTROL = {code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0)) if code != 0x0A}
_CONTROL_AND_NEWLINE = {**_CONTROL, 0x0A: "\\n"}


def escape_controls(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
    """For the console renderer: control characters in string values become escapes.

    The console prints strings as they are and everything else by `repr`, which escapes them
    already. The rendered traceback keeps its line breaks (it is ours); other values lose them.
    """
    for key, value in event_dict.items():
        if isinstance(value, str):
            event_dict[key] = value.translate(
                _CONTROL if key == "exception" else _CONTROL_AND_NEWLINE
            )
    return event_dict


def _trace_ids_processor() -> Processor:
    from example_service.observability.tracing import current_ids  # noqa: PLC0415 - otel only

    def add_trace_ids(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
        ids = current_ids()
        if ids is not None:
            event_dict.setdefault("trace_id", ids[0])
            event_dict.setdefault("span_id", ids[1])
        return event_dict

    return add_trace_ids


def add_request_id(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
    request_id = request_id_var.get()
    if request_id is not None:
        event_dict.setdefault("request_id", request_id)
    return event_dict


class Sink:
    """One binary stream shared by structlog and stdlib records; a lock keeps lines whole."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._pending: list[bytes] = []

    def msg(self, message: bytes | str) -> None:
        data = message.encode() if isinstance(message, str) else message
        with self._lock:
            self._write_pending()
            self._stream.write(data + b"\n")
            self._stream.flush()

    def line_soon(self, line: bytes) -> None:
        """Queue a whole line (newline included); it is written at the end of this loop turn.

        For the line written on every request: the requests served in one event-loop turn then
        cost one write(2) together instead of one each. The sink buffers itself because the
        stream may not (with PYTHONUNBUFFERED=1, common in containers, stdout writes straight
        through). A line is at most one turn late, and any `msg` in between writes it first.
        Outside an event loop it is written at once.
        """
        with self._lock:
            self._pending.append(line)
            first = len(self._pending) == 1
        if not first:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._flush()
            return
        loop.call_soon(self._flush)

    def _flush(self) -> None:
        with self._lock:
            self._write_pending()
            self._stream.flush()

    def _write_pending(self) -> None:
        # Under the lock.
        if self._pending:
            lines, self._pending = self._pending, []
            self._stream.write(b"".join(lines))

    # structlog calls the method named after the level
    log = debug = info = warning = warn = error = critical = exception = fatal = msg


class SinkHandler(logging.Handler):
    def __init__(self, sink: Sink) -> None:
        super().__init__()
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.sink.msg(self.format(record))
        except Exception:  # noqa: BLE001 - logging must never raise into the caller
            self.handleError(record)


def default_stream() -> IO[bytes]:
    """Where lines go when no stream is given: standard output (replaced in tests)."""
    return sys.stdout.buffer


def _orjson_str(obj: Any, **_kw: Any) -> str:
    return orjson.dumps(obj, default=str).decode()


def _orjson_bytes(obj: Any, **_kw: Any) -> bytes:
    return orjson.dumps(obj, default=str)


def configure_logging(
    settings: LogSettings, stream: IO[bytes] | None = None, *, trace_ids: bool = False
) -> Sink:
    """Configure structlog and the stdlib root logger; returns the sink every line goes to.
    With `trace_ids` (TELEMETRY_OTEL), lines written inside a span carry its trace and span ids.

    Safe to call more than once (each call replaces the previous configuration).
    """
    level = logging.getLevelNamesMapping()[settings.level]
    sink = Sink(stream if stream is not None else default_stream())
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        add_request_id,
        *([_trace_ids_processor()] if trace_ids else []),
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact,
        # Rendered here in both formats, so that the traceback's text is scrubbed too.
        structlog.processors.format_exc_info,
        scrub_free_text,
    ]
    renderer: Processor
    if settings.format == "json":
        own_renderer: Processor = structlog.processors.JSONRenderer(serializer=_orjson_bytes)
        renderer = structlog.processors.JSONRenderer(serializer=_orjson_str)
    else:
        shared.append(escape_controls)
        own_renderer = renderer = structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )

    structlog.configure(
        processors=[*shared, own_renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=lambda *_args: sink,
        cache_logger_on_first_use=False,
    )

    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = SinkHandler(sink)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "sqlalchemy", "alembic"):
        lib_logger = logging.getLogger(name)
        lib_logger.handlers.clear()
        lib_logger.propagate = True
    # Our edge middleware writes the one line per request. uvicorn formats its access line
    # whenever this logger has a handler anywhere up the tree, so it gets none.
    uvicorn_access = logging.getLogger("uvicorn.access")
    uvicorn_access.handlers.clear()
    uvicorn_access.propagate = False
    uvicorn_access.disabled = True
    return sink


def get_logger(name: str) -> Any:
    """A lazily-bound structlog logger carrying its module name."""
    # `get_logger(logger=...)` collides with wrap_logger's own parameter; the proxy takes it.
    return BoundLoggerLazyProxy(None, initial_values={"logger": name}, logger_factory_args=())
