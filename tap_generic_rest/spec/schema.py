"""Schemas of spec resources: a file beside the spec, or inferred from the first page.

An inferred schema widens each field's type across the records (integer and number make
number; unlike types are listed together), makes every field nullable (a later record may
lack it), leaves out fields that were only ever null (their type is unknown; they pass
through as undeclared fields, with the usual warning), marks strings that are all
RFC 3339 date-times as ``date-time``, and allows additional properties, so nothing a
later page adds is dropped.
"""

from __future__ import annotations

import re
from typing import Any

_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})$")
_ORDER = ("null", "boolean", "integer", "number", "string", "object", "array")


_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "boolean"),  # before int: a bool is an int in Python
    (int, "integer"),
    (float, "number"),
    (dict, "object"),
    (list, "array"),
    (str, "string"),
)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return next((name for kind, name in _TYPES if isinstance(value, kind)), "string")


class _Shape:
    """What the values seen at one place had in common."""

    def __init__(self) -> None:
        self.types: set[str] = set()
        self.properties: dict[str, _Shape] = {}
        self.items: _Shape | None = None
        self.all_date_times = True

    def add(self, value: Any) -> None:
        kind = _json_type(value)
        self.types.add(kind)
        if kind == "object":
            for key, item in value.items():
                self.properties.setdefault(key, _Shape()).add(item)
        elif kind == "array":
            self.items = self.items or _Shape()
            for item in value:
                self.items.add(item)
        elif kind == "string" and not _DATE_TIME.match(value):
            self.all_date_times = False

    @property
    def known(self) -> bool:
        """Whether a value was seen here (a field only ever null has no type to declare)."""
        return bool(self.types - {"null"})

    def schema(self) -> dict[str, Any]:
        types = set(self.types)
        if {"integer", "number"} <= types:
            types.discard("integer")
        types.add("null")
        out: dict[str, Any] = {"type": [t for t in _ORDER if t in types]}
        if "object" in types:
            out["properties"] = _properties(self.properties)
            out["additionalProperties"] = True
        if "array" in types and self.items is not None and self.items.known:
            out["items"] = self.items.schema()
        if types == {"string", "null"} and self.all_date_times:
            out["format"] = "date-time"
        return out


def _properties(shapes: dict[str, _Shape]) -> dict[str, Any]:
    """Declared properties; one never seen with a value is left to additionalProperties."""
    return {key: shape.schema() for key, shape in shapes.items() if shape.known}


def infer_schema(records: list[Any]) -> dict[str, Any]:
    """A JSON schema every one of ``records`` (objects) satisfies, loosely."""
    shape = _Shape()
    for record in records:
        if isinstance(record, dict):
            shape.add(record)
    return {
        "type": "object",
        "properties": _properties(shape.properties),
        "additionalProperties": True,
    }


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` that also admits null (a parent's field copied into a child record)."""
    out = dict(schema)
    kinds = out.get("type")
    if isinstance(kinds, str):
        out["type"] = [kinds, "null"] if kinds != "null" else kinds
    elif isinstance(kinds, list) and "null" not in kinds:
        out["type"] = [*kinds, "null"]
    elif kinds is None:
        out = {"type": ["string", "integer", "number", "boolean", "null"]}
    return out
