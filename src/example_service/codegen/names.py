"""The names a generated domain is known by, from the one NAME given on the command line."""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass

from example_service.codegen.errors import GenerateError

# Table, index and constraint names are built from it; PostgreSQL's limit is 63 bytes.
MAX_LENGTH = 40
_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


def snake(name: str) -> str:
    """`OrderItem`, `orderItem` and `order_item` all become `order_item`."""
    return "_".join(word.lower() for word in _WORDS.findall(name))


def plural(word: str) -> str:
    # English plural rules good enough for table and package names; irregular nouns can be
    # given already plural-safe (e.g. `person` becomes `persons`).
    if word.endswith("y") and word[-2:-1] not in tuple("aeiou"):
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    return word + "s"


def check_identifier(name: str, what: str) -> None:
    if not name.isidentifier() or not name.isascii():
        raise GenerateError(f"{what} {name!r} is not a Python identifier")
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise GenerateError(f"{what} {name!r} is a Python keyword")


@dataclass(frozen=True, slots=True)
class Names:
    singular: str  # order_item: variables, log events
    plural: str  # order_items: package, table, URL path, tests
    cls: str  # OrderItem: model and schema classes
    title: str  # Order item: docs
    constant: str  # ORDER_ITEMS: permissions

    @property
    def path(self) -> str:
        return "/" + self.plural.replace("_", "-")

    @classmethod
    def parse(cls, name: str) -> Names:
        check_identifier(name, "NAME")
        if len(name) > MAX_LENGTH:
            raise GenerateError(f"NAME {name!r} is longer than {MAX_LENGTH} characters")
        singular = snake(name)
        if not singular or snake(name).replace("_", "") != name.replace("_", "").lower():
            raise GenerateError(f"NAME {name!r}: use letters, digits and underscores")
        if singular[0].isdigit():
            raise GenerateError(f"NAME {name!r} must start with a letter")
        many = plural(singular)
        for candidate in (singular, many):
            check_identifier(candidate, "NAME")
        return cls(
            singular=singular,
            plural=many,
            cls="".join(word.capitalize() for word in singular.split("_")),
            title=singular.replace("_", " ").capitalize(),
            constant=many.upper(),
        )
