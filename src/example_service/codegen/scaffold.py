"""`generate router` and `generate middleware`: small skeletons, each with its test."""

from __future__ import annotations

import re
from pathlib import Path

from example_service.codegen import edits
from example_service.codegen.errors import GenerateError
from example_service.codegen.names import Names
from example_service.codegen.plan import Plan
from example_service.codegen.project import PACKAGE, Project
from example_service.codegen.render import render

_PREFIX = re.compile(r"^(?:/[a-z0-9][a-z0-9._~-]*)+$")


def _check_free(project: Project, path: Path, marker: str) -> None:
    """Refuse a module or package of the project that the same command did not generate."""
    source = path / "__init__.py" if path.is_dir() else path
    if path.exists() and not (source.is_file() and marker in source.read_text()):
        raise GenerateError(f"{project.relative(path)} is an existing domain or module")


def plan_router(project: Project, name: str, prefix: str | None) -> Plan:
    names = Names.parse(name)
    module = names.singular  # a router names its folder as given: `webhooks`, not `webhookses`
    prefix = prefix if prefix is not None else "/" + module.replace("_", "-")
    if not _PREFIX.match(prefix):
        raise GenerateError(f"--prefix {prefix!r}: a path like /webhooks (lowercase, no / at end)")
    for path in (project.package / module, project.package / f"{module}.py"):
        _check_free(project, path, "generate router")
    plan = Plan(project)
    values = {"n": names, "prefix": prefix}
    base = f"src/{PACKAGE}/{module}"
    plan.create(f"{base}/__init__.py", render("router/__init__.py.j2", **values))
    plan.create(f"{base}/router.py", render("router/router.py.j2", **values))
    plan.create_missing(f"tests/{module}/__init__.py", "")
    plan.create(
        f"tests/{module}/test_{module}_router.py", render("router/test_router.py.j2", **values)
    )
    app = project.package / "app.py"
    alias = f"{module}_router"
    source = edits.add_import(
        app.read_text(), f"from {PACKAGE}.{module}.router import router as {alias}"
    )
    plan.edit(f"src/{PACKAGE}/app.py", edits.add_to_list(source, "_api_routers", alias))
    return plan


def plan_middleware(project: Project, name: str) -> Plan:
    names = Names.parse(name)
    target = project.package / "middleware" / f"{names.singular}.py"
    _check_free(project, target, "generate middleware")
    plan = Plan(project)
    values = {"n": names}
    plan.create(project.relative(target), render("middleware/middleware.py.j2", **values))
    plan.create_missing("tests/middleware/__init__.py", "")
    plan.create(
        f"tests/middleware/test_{names.singular}.py",
        render("middleware/test_middleware.py.j2", **values),
    )
    return plan
