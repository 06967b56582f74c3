"""The task commands without a broker say why there is nothing to do, and exit 2."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from example_service.cli import build_cli


@pytest.mark.parametrize(
    "argv", [["worker"], ["scheduler"], ["tasks", "stats"], ["tasks", "failed"]]
)
def test_without_a_broker_the_commands_explain_and_exit_2(argv: list[str]) -> None:
    result = CliRunner().invoke(build_cli(), argv)
    assert result.exit_code == 2
    assert "No broker is configured" in result.stderr


@pytest.mark.parametrize("argv", [["worker"], ["tasks", "stats"], ["tasks", "failed"]])
def test_an_unreachable_broker_is_one_line_and_exit_1(
    argv: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing listens on port 1.
    monkeypatch.setenv("TASKS_BROKER_URL", "redis://127.0.0.1:1/0")
    result = CliRunner().invoke(build_cli(), argv)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error: the broker did not answer")
