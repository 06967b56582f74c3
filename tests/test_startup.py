"""What the app loads at startup: the optional parts only when configured."""

from __future__ import annotations

import subprocess
import sys

import pytest

OPTIONAL = (
    "prometheus_client",
    # part: redis
    "redis",
    # end part: redis
    "httpx",
    "alembic",
)


def _loaded_after_create_app(env: dict[str, str]) -> list[str]:
    probe = (
        "import sys\n"
        "from example_service.app import create_app\n"
        "create_app()\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({OPTIONAL!r})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "APP_ENVIRONMENT": "test", **env},
    )
    return result.stdout.strip().splitlines()[-1:]


def test_the_default_app_loads_no_optional_module() -> None:
    assert _loaded_after_create_app({}) == ["[]"]


@pytest.mark.parametrize(
    ("env", "module"), [({"TELEMETRY_MODE": "prometheus"}, "prometheus_client")]
)
def test_an_optional_module_loads_when_configured(env: dict[str, str], module: str) -> None:
    assert _loaded_after_create_app(env) == [f"[{module!r}]"]
