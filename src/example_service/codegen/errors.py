"""The one error the generator raises: the CLI prints it as one line and exits non-zero."""

from __future__ import annotations


class GenerateError(Exception):
    """Input or project state that the generator refuses, said in one line."""
