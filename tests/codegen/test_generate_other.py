"""`generate router`, `generate middleware` and `generate migration`: what they write, what they
refuse. The gate (test_gate.py) lints, type-checks and runs their output."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from example_service.cli import build_cli
from tests.codegen.project import copy_project, run
from tests.codegen.test_generate_resource import assert_refused, snapshot


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "project", tests=False)


def invoke(project: Path, *args: str) -> Result:
    return CliRunner().invoke(build_cli(), ["generate", *args, "--root", str(project)])


def test_router_is_registered_under_its_prefix(project: Path) -> None:
    result = invoke(project, "router", "webhooks", "--prefix", "/hooks/in")
    assert result.exit_code == 0, result.output
    router = (project / "src/example_service/webhooks/router.py").read_text()
    assert 'APIRouter(prefix="/hooks/in"' in router
    app = (project / "src/example_service/app.py").read_text()
    assert "from example_service.webhooks.router import router as webhooks_router" in app
    # Last in the list of routers the app includes (the formatter may wrap the list).
    assert re.search(r"api_keys\.router,\s*webhooks_router,?\s*\]", app)
    assert (project / "tests/webhooks/test_webhooks_router.py").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["router", "hooks", "--prefix", "hooks"], "a path like /webhooks"),
        (["router", "hooks", "--prefix", "/hooks/"], "a path like /webhooks"),
        (["router", "hooks", "--prefix", "/Hooks"], "a path like /webhooks"),
        (["router", "users"], "src/example_service/users is an existing domain"),
        (["router", "import"], "is a Python keyword"),
        (["middleware", "request_id"], "src/example_service/middleware/request_id.py is an"),
        (["middleware", "audit-log"], "not a Python identifier"),
    ],
)
def test_refusals(project: Path, args: list[str], message: str) -> None:
    before = snapshot(project)
    assert_refused(invoke(project, *args), message)
    assert snapshot(project) == before


def test_middleware_dry_run_then_overwrite_only_with_force(project: Path) -> None:
    dry = invoke(project, "middleware", "audit_log", "--dry-run")
    assert dry.exit_code == 0
    assert "create    src/example_service/middleware/audit_log.py" in dry.stdout
    assert not (project / "src/example_service/middleware/audit_log.py").exists()
    assert invoke(project, "middleware", "audit_log").exit_code == 0
    source = (project / "src/example_service/middleware/audit_log.py").read_text()
    assert "class AuditLogMiddleware:" in source and "BaseHTTPMiddleware" in source
    assert_refused(invoke(project, "middleware", "audit_log"), "--force")
    assert invoke(project, "middleware", "audit_log", "--force").exit_code == 0


def test_migration_failure_is_one_line(project: Path) -> None:
    (project / "src/example_service/db/models.py").write_text("raise ImportError('broken')\n")
    assert_refused(invoke(project, "migration", "x"), "autogenerate failed: ImportError: broken")


def test_migration_autogenerates_a_changed_model_formatted(project: Path) -> None:
    models = project / "src/example_service/api_keys/models.py"
    models.write_text(
        models.read_text().replace(
            "    revoked_at:",
            "    note: Mapped[str | None] = mapped_column(String(50))\n    revoked_at:",
        )
    )
    result = run(project, "example-service", "generate", "migration", "add api key notes")
    (created,) = (project / "migrations/versions").glob("*_add_api_key_notes.py")
    assert f"create    migrations/versions/{created.name}" in result.stdout
    text = created.read_text()
    assert 'batch_op.add_column(sa.Column("note", sa.String(length=50), nullable=True))' in text
    assert 'batch_op.drop_column("note")' in text
    # Alembic's unused import of the column types module is gone, the lines wrapped.
    run(project, "ruff", "check", "--isolated", "--select", "E,F,I,W", str(created))
    run(project, "ruff", "format", "--check", str(created))


def test_migration_writes_nothing_when_models_match(project: Path) -> None:
    versions = project / "migrations/versions"
    before = sorted(p.name for p in versions.glob("*.py"))
    result = invoke(project, "migration", "nothing")
    assert result.exit_code == 0, result.output
    assert result.stdout == "no change: the models match the head\n"
    assert sorted(p.name for p in versions.glob("*.py")) == before


def test_a_resource_whose_migration_fails_says_how_to_finish(project: Path) -> None:
    (project / "migrations/env.py").write_text("raise ImportError('broken')\n")
    result = invoke(project, "resource", "Product")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: autogenerate failed: ImportError: broken",
        "the files are written: once fixed, run "
        "`example-service generate migration 'add products'`",
    ]
    assert (project / "src/example_service/products/models.py").is_file()
