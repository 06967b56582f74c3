"""`generate resource`: the plan, refusals (overwrite, names, fields, parts) and lint-clean
output for names and fields of every shape. The gate (test_gate.py) runs the output."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from example_service.cli import build_cli
from tests.codegen.project import copy_project, run

NO_MIGRATION = [
    arg
    for part in ("model", "schemas", "repository", "service", "router", "tests")
    for arg in ("--part", part)
]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_project(tmp_path / "project", tests=False)


def generate(project: Path, *args: str) -> Result:
    return CliRunner().invoke(build_cli(), ["generate", "resource", *args, "--root", str(project)])


def snapshot(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def assert_refused(result: Result, message: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error: ") and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_dry_run_prints_the_plan_and_writes_nothing(project: Path) -> None:
    before = snapshot(project)
    result = generate(project, "Product", "--field", "price:decimal", "--dry-run")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "create    src/example_service/products/models.py" in lines
    assert "create    tests/products/test_products.py" in lines
    assert "edit      src/example_service/app.py" in lines
    assert "edit      src/example_service/db/models.py" in lines
    assert "edit      src/example_service/auth/roles.py" in lines
    assert any(line.startswith("run       alembic revision --autogenerate") for line in lines)
    assert lines[-1] == "dry run: nothing written"
    assert snapshot(project) == before


def test_refuses_to_overwrite_without_force(project: Path) -> None:
    assert generate(project, "Product", *NO_MIGRATION).exit_code == 0
    models = project / "src/example_service/products/models.py"
    models.write_text("# changed by hand\n")
    before = snapshot(project)
    refused = generate(project, "Product", *NO_MIGRATION)
    assert_refused(refused, "would overwrite src/example_service/products/models.py")
    assert "--force" in refused.stderr
    assert snapshot(project) == before  # nothing at all written, not even the other files
    forced = generate(project, "Product", *NO_MIGRATION, "--force")
    assert forced.exit_code == 0, forced.output
    assert "class Product(" in models.read_text()
    # Registrations are made once, however often the resource is generated.
    app = (project / "src/example_service/app.py").read_text()
    assert app.count("products_router") == 2  # the import and the list entry
    roles = (project / "src/example_service/auth/roles.py").read_text()
    assert roles.count("PRODUCTS_READ_ANY") == 1


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("class", "is a Python keyword"),
        ("match", "is a Python keyword"),
        ("2fa", "not a Python identifier"),
        ("my-thing", "not a Python identifier"),
        ("café", "not a Python identifier"),
        ("User", "src/example_service/users is an existing domain"),
        ("users", "src/example_service/users is an existing domain"),
        ("auth", "src/example_service/auth is an existing domain"),
        ("app", "src/example_service/app.py is an existing domain or module"),
        ("Page", "a name the generated code already uses"),
    ],
)
def test_refuses_bad_names(project: Path, name: str, message: str) -> None:
    before = snapshot(project)
    assert_refused(generate(project, name), message)
    assert snapshot(project) == before


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("price", "expected name:type"),
        ("price:money", "type must be one of str, text, int, bool, decimal, datetime, fk"),
        ("class:str", "is a Python keyword"),
        ("Price:str", "use lowercase letters"),
        ("id:str", "'id' is reserved"),
        ("owner:fk", "'owner_id' is reserved"),
        ("model_config:str", "'model_config' is reserved"),
        ("json:str", "'json' is reserved"),
    ],
)
def test_refuses_bad_fields(project: Path, spec: str, message: str) -> None:
    assert_refused(generate(project, "Product", "--field", spec), message)


def test_refuses_a_field_given_twice(project: Path) -> None:
    result = generate(project, "Product", "--field", "a:int", "--field", "a:str")
    assert_refused(result, "'a' is given twice")


def test_parts(project: Path) -> None:
    assert_refused(generate(project, "Product", "--part", "router"), "--part router needs")
    assert_refused(generate(project, "Product", "--part", "views"), "--part views: choose from")
    result = generate(project, "Product", "--part", "model", "--part", "schemas")
    assert result.exit_code == 0, result.output
    package = project / "src/example_service/products"
    assert sorted(path.name for path in package.iterdir()) == [
        "__init__.py",
        "models.py",
        "schemas.py",
    ]
    assert "products" not in (project / "src/example_service/app.py").read_text()
    # The parts already written count: the rest can follow.
    later = generate(project, "Product", "--part", "repository", "--part", "service")
    assert later.exit_code == 0, later.output


def test_refuses_a_directory_that_is_not_the_project(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        build_cli(), ["generate", "resource", "Product", "--root", str(tmp_path)]
    )
    assert_refused(result, "src/example_service/app.py is missing")


def test_output_is_lint_clean_for_long_names_and_every_shape(project: Path) -> None:
    # Long names make long lines, optional and required fields of each type take other template
    # branches: ruff must find nothing either way (the gate type-checks and runs the code).
    long_fields = [
        "--field",
        "a_rather_long_descriptive_price_of_it:decimal?",
        "--field",
        "a_considerably_long_reference_to_user:fk",
        "--field",
        "when_it_happened:datetime",
        "--field",
        "n:int?",
        "--field",
        "flag:bool",
    ]
    assert generate(project, "WarehouseInventoryAdjustmentRecord", *long_fields).exit_code == 0
    assert generate(project, "Tag", "--field", "label:text?", "--part", "model").exit_code == 0
    run(project, "ruff", "check", "src", "tests", "migrations")
    run(project, "ruff", "format", "--check", "src", "tests", "migrations")


def test_asks_for_what_is_missing_in_a_terminal(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("example_service.cli.interactive.is_terminal", lambda: True)
    result = CliRunner().invoke(
        build_cli(),
        ["generate", "resource", "--root", str(project), *NO_MIGRATION],
        input="Invoice\namount:decimal due:datetime?\ny\n",
    )
    assert result.exit_code == 0, result.output
    models = (project / "src/example_service/invoices/models.py").read_text()
    assert "amount: Mapped[Decimal]" in models
    assert "due: Mapped[datetime | None]" in models
    assert "deleted_at: Mapped[datetime | None]" in models  # soft delete: answered yes


def test_asks_nothing_outside_a_terminal(project: Path) -> None:
    result = CliRunner().invoke(build_cli(), ["generate", "resource", "--root", str(project)])
    assert_refused(result, "NAME is missing (run it in a terminal to be asked for it)")


def test_the_seeds_spellings_select_parts(project: Path) -> None:
    default = generate(project, "Order", "--dry-run")
    assert generate(project, "Order", "--all", "--dry-run").stdout == default.stdout
    result = generate(project, "Order", "--model", "--schema", "--crud", "--dry-run")
    assert result.exit_code == 0, result.output
    created = {line.split()[1] for line in result.stdout.splitlines() if line.startswith("create")}
    package = "src/example_service/orders"
    assert created == {
        f"{package}/{name}"
        for name in ("__init__.py", "models.py", "schemas.py", "repository.py", "exceptions.py")
    } | {f"{package}/service.py"}
    assert any(line.startswith("run       alembic revision") for line in result.stdout.splitlines())
    assert "router.py" not in result.stdout and "tests/" not in result.stdout
    assert_refused(generate(project, "Order", "--crud"), "--part repository needs model")
