"""The gate: generated code passes, as written, ruff, mypy --strict, its migrations up and down
on SQLite and PostgreSQL, and its own tests (on both databases).

Two resources (one with every field type and soft delete, one with the defaults: between them,
every branch of the templates), a router and a middleware, generated into a scratch copy of the
project and checked there, in child processes of this virtualenv.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.codegen.project import ROOT, copy_project, run

# The project's own head revision, which the first generated migration follows.
HEAD = max(path.name for path in (ROOT / "migrations/versions").glob("0*.py")).split("_")[0]

FIELDS = [
    "title:str",
    "body:text?",
    "quantity:int",
    "active:bool",
    "price:decimal",
    "due_at:datetime?",
    "reviewer:fk",
]
GENERATED_TESTS = (
    "tests/stock_items",
    "tests/notes",
    "tests/webhooks",
    "tests/middleware/test_audit_log.py",
)
# Every operation declares the errors it can answer; the migrations leave no drift from the
# models, on SQLite and PostgreSQL.
PROJECT_CHECKS = ("tests/errors/test_openapi.py", "tests/db/test_migrations.py")
TABLES_SCRIPT = (
    "import asyncio, sys\n"
    "from sqlalchemy import inspect\n"
    "from example_service.db.engine import create_engine\n"
    "from example_service.settings import DatabaseSettings\n"
    "async def main():\n"
    "    engine = create_engine(DatabaseSettings(url=sys.argv[1]))\n"
    "    async with engine.connect() as c:\n"
    "        print(sorted(await c.run_sync(lambda s: inspect(s).get_table_names())))\n"
    "    await engine.dispose()\n"
    "asyncio.run(main())\n"
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_project(tmp_path_factory.mktemp("gate"))
    fields = [arg for spec in FIELDS for arg in ("--field", spec)]
    generate = ("example-service", "generate", "resource")
    run(root, *generate, "StockItem", *fields, "--soft-delete", "--root", str(root))
    run(root, *generate, "Note", "--field", "pinned:bool?", "--root", str(root))
    run(root, "example-service", "generate", "router", "webhooks", "--prefix", "/hooks/in")
    run(root, "example-service", "generate", "middleware", "audit_log", "--root", str(root))
    return root


def test_it_wrote_domains_their_tests_and_migrations(project: Path) -> None:
    package = project / "src/example_service/stock_items"
    assert {path.name for path in package.glob("*.py")} == {
        "__init__.py",
        "models.py",
        "schemas.py",
        "repository.py",
        "service.py",
        "exceptions.py",
        "router.py",
    }
    assert (project / "tests/stock_items/test_stock_items.py").is_file()
    versions = project / "migrations/versions"
    (stock,) = versions.glob("*_add_stock_items.py")
    (notes,) = versions.glob("*_add_notes.py")
    assert f'down_revision: str | Sequence[str] | None = "{HEAD}"' in stock.read_text()
    stock_revision = re.search(r'^revision: str = "(\w+)"', stock.read_text(), re.MULTILINE)
    assert stock_revision is not None
    assert f'None = "{stock_revision.group(1)}"' in notes.read_text()  # the second follows
    # The migrations say exactly what the models do: autogenerate finds nothing left.
    result = run(project, "example-service", "generate", "migration", "nothing", "--root", ".")
    assert "no change" in result.stdout


def test_ruff_is_clean(project: Path) -> None:
    run(project, "ruff", "check", "src", "tests", "migrations")
    run(project, "ruff", "format", "--check", "src", "tests", "migrations")


def test_mypy_strict_is_clean(project: Path) -> None:
    run(project, "mypy", "--strict", "src/example_service", *GENERATED_TESTS)


def tables(project: Path, url: str) -> set[str]:
    listed = run(project, "python", "-c", TABLES_SCRIPT, url).stdout.strip()
    return set(listed.strip("[]").replace("'", "").split(", "))


def test_migrations_up_and_down(project: Path, db_url: str) -> None:
    mine = {"stock_items", "notes"}
    run(project, "example-service", "db", "upgrade", DATABASE_URL=db_url)
    assert {"users", *mine} <= tables(project, db_url)
    run(project, "example-service", "db", "downgrade", "--", "-1", DATABASE_URL=db_url)
    assert "notes" not in tables(project, db_url)
    run(project, "example-service", "db", "downgrade", HEAD, DATABASE_URL=db_url)
    after = tables(project, db_url)
    assert "users" in after and not after & mine
    run(project, "example-service", "db", "upgrade", DATABASE_URL=db_url)
    assert mine <= tables(project, db_url)


def test_generated_tests_and_the_projects_checks_pass(project: Path) -> None:
    result = run(
        project,
        *("python", "-m", "pytest", "-q", "-p", "no:cacheprovider"),
        *GENERATED_TESTS,
        *PROJECT_CHECKS,
        timeout=600,
    )
    # Seven tests for each resource, each on SQLite and PostgreSQL, two for the router, two for
    # the middleware, and the project's ten: none skipped.
    assert "42 passed" in result.stdout and "skipped" not in result.stdout, result.stdout
