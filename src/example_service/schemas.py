"""The base of every request body model: what any database behind the service can store.

PostgreSQL text cannot hold a NUL character, and PostgreSQL and SQLite integers are 64-bit: a
value outside either would reach the driver and fail there as a 500. Checked here, for every
field of every request model (nested lists and objects included), it is a 422 that names the
field, on every database alike. Request models subclass `RequestModel`; responses need not.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator
from pydantic_core import PydanticCustomError

# The range of a 64-bit signed integer: PostgreSQL BIGINT, SQLite INTEGER.
MIN_DB_INT = -(2**63)
MAX_DB_INT = 2**63 - 1
_MAX_DEPTH = 32  # the input guard already refuses deeper JSON (SECURITY_MAX_JSON_DEPTH)


def check_storable(value: Any, depth: int = 0) -> None:
    """Raise a pydantic error if `value` holds a NUL character or an integer out of range."""
    if isinstance(value, str):
        if "\x00" in value:
            raise PydanticCustomError("string_nul", "Text must not contain NUL characters")
    elif isinstance(value, int) and not isinstance(value, bool):
        if not MIN_DB_INT <= value <= MAX_DB_INT:
            raise PydanticCustomError(
                "int_out_of_range", "Integer must fit in 64 bits (-2**63 to 2**63-1)"
            )
    elif depth < _MAX_DEPTH and isinstance(value, list | tuple):
        for item in value:
            check_storable(item, depth + 1)
    elif depth < _MAX_DEPTH and isinstance(value, dict):
        for key, item in value.items():
            check_storable(key, depth + 1)
            check_storable(item, depth + 1)


# The same rules in the model's JSON schema, so that OpenAPI promises no more than is accepted.
NO_NUL_PATTERN = "^[^\\u0000]*$"


def storable_schema(schema: dict[str, Any], *_: Any) -> None:
    """Say in a JSON schema what `check_storable` enforces: strings without NUL (as a pattern,
    where the schema has none), integers within 64 bits. Nested schemas included."""
    kind = schema.get("type")
    if kind == "string" and "pattern" not in schema and schema.get("format") != "binary":
        schema["pattern"] = NO_NUL_PATTERN
    elif kind == "integer":
        schema["minimum"] = max(schema.get("minimum", MIN_DB_INT), MIN_DB_INT)
        schema["maximum"] = min(schema.get("maximum", MAX_DB_INT), MAX_DB_INT)
    for value in schema.values():
        if isinstance(value, dict):
            storable_schema(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    storable_schema(item)


class RequestModel(BaseModel):
    """A request body: unknown fields are refused, every value must be storable."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=storable_schema)

    @field_validator("*", mode="before")
    @classmethod
    def _storable(cls, value: Any) -> Any:
        check_storable(value)
        return value
