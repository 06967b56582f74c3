"""The `example-service` command line: `build_cli` adds each command and group, one module
each (`serve_cmd` for `serve`, `db_cmd` for `db ...`)."""

from __future__ import annotations

import typer

from example_service.cli import (
    cache_cmd,
    config_cmd,
    db_cmd,
    dev_cmd,
    generate_cmd,
    health_cmd,
    monitor_cmd,
    security_cmd,
    serve_cmd,
    tasks_cmd,
    users_cmd,
)
from example_service.cli.errors import ClearErrors


def build_cli() -> typer.Typer:
    cli = typer.Typer(
        name="example-service",
        cls=ClearErrors,
        help="Run and operate example-service.",
        no_args_is_help=True,
        add_completion=True,  # --install-completion, --show-completion
    )
    serve_cmd.register(cli)
    health_cmd.register(cli)
    # part: tasks
    # part: redis
    tasks_cmd.register(cli)  # worker, scheduler
    # end part: redis
    # end part: tasks
    cli.add_typer(config_cmd.build(), name="config")
    cli.add_typer(db_cmd.build(), name="db")
    cli.add_typer(users_cmd.build(), name="users")
    # part: redis
    cli.add_typer(cache_cmd.build(), name="cache")
    # part: tasks
    cli.add_typer(tasks_cmd.build(), name="tasks")
    # end part: tasks
    cli.add_typer(security_cmd.build(), name="security")
    # end part: redis
    cli.add_typer(monitor_cmd.build(), name="monitor")
    cli.add_typer(generate_cmd.build(), name="generate")
    cli.add_typer(dev_cmd.build(), name="dev")
    return cli


def main() -> None:
    build_cli()()
