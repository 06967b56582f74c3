"""The interactive mode: `example-service` with no arguments asks, in a terminal, for the
command and what it requires, then runs it; outside a terminal it prints the help as before.
The terminal check is replaced; the answers come on stdin."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from example_service.cli import build_cli
from tests.codegen.project import copy_project


def ask(answers: list[str]) -> Result:
    return CliRunner().invoke(build_cli(), [], input="".join(f"{line}\n" for line in answers))


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("example_service.cli.interactive.is_terminal", lambda: True)


def test_outside_a_terminal_it_prints_the_help() -> None:
    result = ask(["config", "show"])
    assert result.exit_code == 2  # click's answer to no arguments
    assert "Usage: example-service" in result.output
    assert "Command:" not in result.output


@pytest.mark.usefixtures("terminal")
def test_it_asks_for_the_command_then_runs_it() -> None:
    result = ask(["nope", "config", "show"])
    assert result.exit_code == 0, result.output
    assert "no command 'nope': choose one of serve, health" in result.stderr
    assert "running: example-service config show" in result.stderr
    assert "  generate           Generate code in this project's layout." in result.stdout
    report = result.stdout[result.stdout.index("{") :]
    assert json.loads(report)["database"]["url"].startswith("sqlite")


@pytest.mark.usefixtures("terminal")
def test_it_asks_for_required_arguments(tmp_path: Path) -> None:
    copy_project(tmp_path, tests=False)  # the test runs in tmp_path: --root's default
    result = ask(["generate", "router", "webhooks"])
    assert result.exit_code == 0, result.output
    assert "Package name, e.g. webhooks.:" in result.stdout
    assert (tmp_path / "src/example_service/webhooks/router.py").is_file()


@pytest.mark.usefixtures("terminal")
def test_a_command_line_answer_is_split_and_its_exit_code_kept() -> None:
    result = ask(["dev", "run", f"{sys.executable} -c 'raise SystemExit(4)'"])
    assert result.exit_code == 4, result.output


@pytest.mark.usefixtures("terminal")
def test_generate_resource_asks_the_rest_itself(tmp_path: Path) -> None:
    copy_project(tmp_path, tests=False)
    result = ask(["generate", "resource", "Invoice", "amount:decimal", "n"])
    assert result.exit_code == 0, result.output
    assert "Resource name (singular, e.g. Product):" in result.stdout  # its own questions
    assert (tmp_path / "src/example_service/invoices/models.py").is_file()
    (migration,) = (tmp_path / "migrations/versions").glob("*_add_invoices.py")
    assert "amount" in migration.read_text()
