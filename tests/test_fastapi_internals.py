"""The few framework internals the service relies on: if one moves, this fails and says what.

pyproject.toml pins FastAPI to the versions these hold for; raising the upper bound means
running this file against the new release first.
"""

from __future__ import annotations

import importlib
import inspect

import pytest
from fastapi import FastAPI

from example_service.app import ServiceApp, create_app
from example_service.middleware.exception_handlers import SCOPE_FILE_STACK, SCOPE_HANDLERS
from example_service.settings import Settings


def test_the_exception_recorder_is_where_app_py_imports_it() -> None:
    module = importlib.import_module("fastapi.telemetry._asgi")
    recorder = getattr(module, "ExceptionTelemetryMiddleware", None)
    assert recorder is not None, (
        "fastapi.telemetry._asgi.ExceptionTelemetryMiddleware moved: update ServiceApp in "
        "app.py (TELEMETRY_OTEL=true) and the FastAPI pin in pyproject.toml"
    )
    assert list(inspect.signature(recorder).parameters) == ["app"]


def test_the_scope_keys_the_handler_layer_publishes_are_read_by_fastapi() -> None:
    # FastAPI's route wrapper reads the handler tables and the file stack from these keys.
    sources = inspect.getsource(importlib.import_module("fastapi.routing"))
    sources += inspect.getsource(importlib.import_module("starlette._exception_handler"))
    for key in (SCOPE_HANDLERS, SCOPE_FILE_STACK):
        assert f'"{key}"' in sources, (
            f"FastAPI/Starlette no longer read scope[{key!r}]: update "
            "middleware/exception_handlers.py and the FastAPI pin in pyproject.toml"
        )


def test_fastapi_builds_its_stack_from_the_overridden_method() -> None:
    assert "build_middleware_stack" in vars(ServiceApp)
    assert "build_middleware_stack" in vars(FastAPI), "FastAPI no longer builds its own stack"


def test_max_body_size_is_refused_with_the_settings_to_use() -> None:
    app = create_app(Settings())
    app.max_body_size = 10
    with pytest.raises(ValueError, match="SECURITY_MAX_REQUEST_SIZE"):
        app.build_middleware_stack()
