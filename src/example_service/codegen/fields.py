"""`--field name:type`: the column, the schema type and the test values of each field type.

A trailing `?` makes a field optional (nullable, may be omitted). `fk` is a reference to a
user, stored as `<name>_id` and always optional (the user may be deleted: SET NULL).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel

from example_service.codegen.errors import GenerateError
from example_service.codegen.names import MAX_LENGTH, check_identifier

_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# Columns every generated model has, and names SQLAlchemy's declarative base reserves.
RESERVED = frozenset(
    {"id", "owner_id", "created_at", "updated_at", "deleted_at", "metadata", "registry"}
)


@dataclass(frozen=True, slots=True)
class Kind:
    python: str  # the Mapped[...] and read-schema type
    column: str  # the SQLAlchemy column type expression
    schema: str  # the request-schema type
    sample: str  # a valid JSON value, as Python source, for the tests
    other: str  # another valid value, for updates
    invalid: str  # a value of the wrong type: a 422
    compare: str = "equal"  # how a test compares what it sent with what it reads back


KINDS: dict[str, Kind] = {
    "str": Kind("str", "String(200)", "ShortText", '"alpha"', '"beta"', "123"),
    "text": Kind("str", "Text", "LongText", '"a longer text"', '"another text"', "[1, 2]"),
    "int": Kind("int", "BigInteger", "int", "42", "-7", '"many"'),
    "bool": Kind("bool", "Boolean", "bool", "True", "False", '"maybe"'),
    "decimal": Kind(
        "Decimal", "Numeric(12, 2)", "Money", '"12.50"', '"0.99"', '"a lot"', compare="decimal"
    ),
    "datetime": Kind(
        "datetime",
        "UTCDateTime",
        "AwareDatetime",
        '"2026-01-02T03:04:05Z"',
        '"2027-06-07T08:09:10+02:00"',
        '"2026-01-02T03:04:05"',  # naive: refused, never guessed
        compare="datetime",
    ),
    "fk": Kind("uuid.UUID", "Uuid", "uuid.UUID", "owner", "None", '"not-a-uuid"', compare="fk"),
}


@dataclass(frozen=True, slots=True)
class Field:
    name: str  # as given: `reviewer`
    kind_name: str
    optional: bool

    @property
    def kind(self) -> Kind:
        return KINDS[self.kind_name]

    @property
    def attr(self) -> str:
        """The attribute and JSON key: `reviewer_id` for a reference, else the name."""
        return f"{self.name}_id" if self.kind_name == "fk" else self.name


def parse_field(spec: str) -> Field:
    name, sep, kind = spec.partition(":")
    if not sep:
        raise GenerateError(f"--field {spec!r}: expected name:type, e.g. price:decimal")
    optional = kind.endswith("?")
    kind = kind.removesuffix("?")
    if kind not in KINDS:
        raise GenerateError(f"--field {spec!r}: type must be one of {', '.join(KINDS)}")
    check_identifier(name, "field")
    if not _FIELD_NAME.match(name):
        raise GenerateError(f"--field {spec!r}: use lowercase letters, digits and underscores")
    if len(name) > MAX_LENGTH:
        raise GenerateError(f"--field {spec!r}: longer than {MAX_LENGTH} characters")
    field = Field(name, kind, optional or kind == "fk")
    if field.attr in RESERVED or field.attr.startswith("model_") or hasattr(BaseModel, field.attr):
        # pydantic's own attributes: a field of that name would shadow them.
        raise GenerateError(f"--field {spec!r}: {field.attr!r} is reserved")
    return field


def parse_fields(specs: list[str]) -> list[Field]:
    fields = [parse_field(spec) for spec in specs]
    seen: set[str] = set()
    for field in fields:
        if field.attr in seen:
            raise GenerateError(f"--field {field.attr!r} is given twice")
        seen.add(field.attr)
    return fields or [Field("name", "str", optional=False)]  # no --field: a name
