"""`example-service generate resource | router | middleware | migration`: new code in this
project's layout, which passes its linters, type checker and tests as written.

The generator and Jinja2 are imported when a command runs, not when the CLI starts.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from example_service.cli import interactive

if TYPE_CHECKING:
    from example_service.codegen.plan import Plan

T = TypeVar("T")

Force = Annotated[bool, typer.Option("--force", help="Overwrite files that exist.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Print the plan; write nothing.")]
Root = Annotated[Path, typer.Option("--root", help="The project to write into.", file_okay=False)]


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def _guarded(build: Callable[[], T]) -> T:
    """`build`'s result; a refusal from the generator becomes one line and exit code 1."""
    from example_service.codegen.errors import GenerateError  # noqa: PLC0415

    try:
        return build()
    except GenerateError as exc:
        raise _fail(str(exc)) from None


def _apply(plan: Plan, *, force: bool, dry_run: bool) -> bool:
    """Print the plan; unless a dry run, write it. True when files were written."""
    _guarded(lambda: plan.check(force=force))
    for line in plan.describe():
        typer.echo(line)
    if dry_run:
        typer.echo("dry run: nothing written")
        return False
    if not plan.write():
        typer.echo("note: ruff not found; run `make format` to format the new files", err=True)
    return True


def _ask(fields: list[str] | None, *, soft_delete: bool) -> tuple[str, list[str], bool]:
    """What `generate resource` was not told, asked for in a terminal; elsewhere, a refusal."""
    if not interactive.is_terminal():
        raise _fail("NAME is missing (run it in a terminal to be asked for it)")
    name: str = typer.prompt("Resource name (singular, e.g. Product)")
    if not fields:
        answer: str = typer.prompt(
            "Fields, name:type separated by spaces (types: str text int bool decimal datetime "
            "fk; ? for optional)",
            default="name:str",
        )
        fields = answer.split()
    if not soft_delete:
        soft_delete = typer.confirm("Soft delete?", default=False)
    return name, fields, soft_delete


def build() -> typer.Typer:
    group = typer.Typer(help="Generate code in this project's layout.", no_args_is_help=True)

    @group.command("resource")
    def resource(
        name: Annotated[
            str | None,
            typer.Argument(
                help="Singular name, e.g. Product or order_item (asked for in a terminal)."
            ),
        ] = None,
        *,  # typer passes options by name
        field: Annotated[
            list[str] | None,
            typer.Option(
                "--field",
                "-f",
                help="name:type, type one of str, text, int, bool, decimal, datetime, fk "
                "(a user); a trailing ? makes it optional. Repeat it. Default: name:str.",
            ),
        ] = None,
        soft_delete: Annotated[
            bool, typer.Option("--soft-delete", help="Delete by setting deleted_at.")
        ] = False,
        part: Annotated[
            list[str] | None,
            typer.Option(
                "--part",
                help="Generate only these parts: model, schemas, repository, service, router, "
                "tests, migration. Repeat it. Default: all.",
            ),
        ] = None,
        everything: Annotated[
            bool, typer.Option("--all", help="Every part (the default when none is named).")
        ] = False,
        model: Annotated[
            bool, typer.Option("--model", help="The model and its migration.")
        ] = False,
        schema: Annotated[bool, typer.Option("--schema", help="The Pydantic schemas.")] = False,
        crud: Annotated[
            bool, typer.Option("--crud", help="The CRUD operations: repository and service.")
        ] = False,
        router: Annotated[bool, typer.Option("--router", help="The routes.")] = False,
        tests: Annotated[bool, typer.Option("--tests", help="The API tests.")] = False,
        force: Force = False,
        dry_run: DryRun = False,
        root: Root = Path(),
    ) -> None:
        """A domain package like users/: model, schemas, repository, service, router (owner or
        administrator), its registration in the app, a migration and tests; `--model --schema
        --crud` (or --part) for some of them, each needing those it imports on disk or chosen
        too."""
        from example_service.codegen import resource as gen  # noqa: PLC0415
        from example_service.codegen.fields import parse_fields  # noqa: PLC0415
        from example_service.codegen.migration import generate_migration  # noqa: PLC0415
        from example_service.codegen.names import Names  # noqa: PLC0415
        from example_service.codegen.project import Project  # noqa: PLC0415

        if name is None:
            name, field, soft_delete = _ask(field, soft_delete=soft_delete)
        flags = {"model": model, "schema": schema, "crud": crud, "router": router, "tests": tests}
        spelled = [] if everything else [name for name, chosen in flags.items() if chosen]
        parts = gen.PARTS if everything else _guarded(lambda: gen.select_parts(part or [], spelled))

        def plan() -> tuple[Project, gen.ResourceSpec, Plan]:
            project = Project.at(root)
            spec = gen.ResourceSpec(
                Names.parse(name), parse_fields(field or []), soft_delete, parts
            )
            return project, spec, gen.plan_resource(project, spec)

        project, spec, planned = _guarded(plan)
        if _apply(planned, force=force, dry_run=dry_run) and "migration" in parts:
            message = f"add {spec.names.plural}"
            try:
                paths = _guarded(lambda: generate_migration(project, message))
            except typer.Exit:
                typer.echo(
                    f"the files are written: once fixed, run `example-service generate "
                    f"migration '{message}'`",
                    err=True,
                )
                raise
            for path in paths:
                typer.echo(f"{'create':9} {project.relative(path)}")

    @group.command("router")
    def router(
        name: Annotated[str, typer.Argument(help="Package name, e.g. webhooks.")],
        *,
        prefix: Annotated[
            str | None, typer.Option(help="Path under the API prefix. Default: /NAME.")
        ] = None,
        force: Force = False,
        dry_run: DryRun = False,
        root: Root = Path(),
    ) -> None:
        """A router in a package of its own, registered in the app, with its test."""
        from example_service.codegen.project import Project  # noqa: PLC0415
        from example_service.codegen.scaffold import plan_router  # noqa: PLC0415

        planned = _guarded(lambda: plan_router(Project.at(root), name, prefix))
        _apply(planned, force=force, dry_run=dry_run)

    @group.command("middleware")
    def middleware(
        name: Annotated[str, typer.Argument(help="Module name, e.g. audit_log.")],
        *,
        force: Force = False,
        dry_run: DryRun = False,
        root: Root = Path(),
    ) -> None:
        """A pure ASGI middleware skeleton in middleware/, with its test (add it to the stack
        in create_app yourself: its place in the order matters)."""
        from example_service.codegen.project import Project  # noqa: PLC0415
        from example_service.codegen.scaffold import plan_middleware  # noqa: PLC0415

        planned = _guarded(lambda: plan_middleware(Project.at(root), name))
        _apply(planned, force=force, dry_run=dry_run)

    @group.command("migration")
    def migration(
        message: Annotated[str, typer.Argument(help="What it changes, e.g. 'add user roles'.")],
        root: Root = Path(),
    ) -> None:
        """An Alembic revision autogenerated against head (`db revision --autogenerate`),
        formatted; nothing is written when the models match the head."""
        from example_service.codegen.migration import generate_migration  # noqa: PLC0415
        from example_service.codegen.project import Project  # noqa: PLC0415

        project = _guarded(lambda: Project.at(root))
        paths = _guarded(lambda: generate_migration(project, message))
        if not paths:
            typer.echo("no change: the models match the head")
        for path in paths:
            typer.echo(f"{'create':9} {project.relative(path)}")

    return group
