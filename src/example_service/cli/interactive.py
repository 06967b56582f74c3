"""The interactive mode: `example-service` with no arguments in a terminal asks which command
to run, then for each value that command requires; elsewhere (a script, CI) it prints the help
as before. Commands that ask for more themselves (`generate resource` without a name, `db seed`
without a password) go on asking once started.

What the user picks becomes an ordinary argument list, parsed and run as if typed.
"""

from __future__ import annotations

import shlex
import sys
from typing import Any

import typer


def is_terminal() -> bool:
    return sys.stdin.isatty()


def ask(root: Any) -> list[str]:
    """The arguments for a command of `root` (a click group), asked for one by one."""
    argv: list[str] = []
    command = root
    while (children := getattr(command, "commands", None)) is not None:
        visible = {name: child for name, child in children.items() if not child.hidden}
        for name, child in visible.items():
            typer.echo(f"  {name:18} {child.get_short_help_str(60)}")
        name = _choose(visible, " ".join(argv))
        argv.append(name)
        command = visible[name]
    options: list[str] = []
    arguments: list[str] = []
    for param in command.params:
        # Options that prompt by themselves (passwords) are left to click.
        if not param.required or getattr(param, "prompt", None):
            continue
        label = getattr(param, "help", None) or param.name
        answer: str = typer.prompt(label, hide_input=getattr(param, "hide_input", False))
        if param.param_type_name == "argument":
            arguments += shlex.split(answer) if param.nargs == -1 else [answer]
        else:
            options += [param.opts[0], answer]
    typer.echo(f"running: {root.name} {' '.join(argv)}", err=True)
    return [*argv, *options, *arguments]


def _choose(choices: dict[str, Any], under: str) -> str:
    question = f"{under} command" if under else "Command"
    while True:
        name: str = typer.prompt(question.capitalize())
        if name in choices:
            return name
        typer.echo(f"no command {name!r}: choose one of {', '.join(choices)}", err=True)
