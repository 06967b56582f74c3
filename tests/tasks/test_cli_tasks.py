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
