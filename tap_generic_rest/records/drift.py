"""Type drift: values whose JSON type the stream's schema does not allow.

APIs drift (Opsgenie sends ``advanced: false`` where a schema says object;
Rocket.Chat's ``sysMes`` is a boolean or a list). The tap never changes or drops
such a value, and never emits a record its latest SCHEMA message forbids: the
stream widens the field's type to admit what was seen and sends the new SCHEMA
before the record (``GenericRestStream.admit``). This module is the one place
that says what a schema allows:

* :func:`allowed_classes`, what the per-record test (``checks``, which also
  answers the SDK's conformance question in the same pass) compares classes with;
* :func:`find_drift`, the closer look, listing each :class:`Drift`;
* :func:`widen`, the change to the schema that admits it.

Only the ``type`` keyword is read; properties, ``items`` of arrays and nested
objects are followed. A schema without ``type`` (or with ``anyOf``...) allows anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

#: The Python classes a decoded JSON value of each schema type can have.
_CLASSES: dict[str, frozenset[type]] = {
    "null": frozenset({type(None)}),
    "boolean": frozenset({bool}),
    "integer": frozenset({int}),
    "number": frozenset({int, float, Decimal}),
    "string": frozenset({str}),
    "array": frozenset({list}),
    "object": frozenset({dict}),
}
#: The JSON types in the order a widened ``type`` list names them (null last).
_ORDER = ("object", "array", "string", "number", "integer", "boolean", "null")


#: JSON type names by exact class; subclasses (a Decimal's, a str's) are looked up in order.
_NAMES: dict[type, str] = {
    type(None): "null",
    bool: "boolean",
    int: "integer",
    float: "number",
    Decimal: "number",
    str: "string",
    list: "array",
    dict: "object",
}


def json_type(value: Any) -> str:
    """The JSON type of a decoded value (an integral float counts as a number)."""
    name = _NAMES.get(type(value))
    if name is not None:
        return name
    for kind, kind_name in _NAMES.items():
        if isinstance(value, kind):
            return kind_name
    return type(value).__name__


def declared_types(schema: Any) -> tuple[str, ...] | None:
    """The types a property schema allows; None when it allows any value."""
    if not isinstance(schema, dict) or "anyOf" in schema or "oneOf" in schema:
        return None
    types = schema.get("type")
    if types is None:
        return None
    return (types,) if isinstance(types, str) else tuple(types)


def allows(types: tuple[str, ...] | None, value: Any) -> bool:
    """Whether a value of ``value``'s type is valid under ``types``.

    An integral float is a valid ``integer``, as JSON Schema (draft 6 on) says.
    """
    if types is None:
        return True
    kind = json_type(value)
    if kind in types:
        return True
    if kind == "integer":
        return "number" in types
    return kind == "number" and "integer" in types and _is_integral(value)


def _is_integral(value: Any) -> bool:
    try:
        return bool(value == int(value))
    except (OverflowError, ValueError):  # inf, nan
        return False


def allowed_classes(types: tuple[str, ...]) -> frozenset[type]:
    """The classes a decoded value may have under ``types`` (an integral float aside)."""
    allowed: set[type] = set()
    for name in types:
        allowed |= _CLASSES.get(name, frozenset())
    return frozenset(allowed)


@dataclass(frozen=True)
class Drift:
    """A value at ``path`` whose type ``seen`` the schema's ``declared`` types do not allow."""

    path: tuple[str, ...]  # property names; "[]" stands for "any item of the array"
    declared: tuple[str, ...]
    seen: str

    @property
    def field(self) -> str:
        """The path as users write it: ``integration.advanced``, ``tags[]``."""
        return ".".join(self.path).replace(".[]", "[]")


def find_drift(record: dict[str, Any], schema: dict[str, Any]) -> list[Drift]:
    """Every distinct drift in ``record`` (one per path and seen type)."""
    found: dict[tuple[tuple[str, ...], str], Drift] = {}
    for drift in _walk_object(record, schema, ()):
        found.setdefault((drift.path, drift.seen), drift)
    return list(found.values())


def _walk_object(
    record: dict[str, Any], schema: dict[str, Any], at: tuple[str, ...]
) -> Iterator[Drift]:
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return
    for name, prop in properties.items():
        if name in record:
            yield from _walk_value(record[name], prop, (*at, name))


def _walk_value(value: Any, schema: Any, at: tuple[str, ...]) -> Iterator[Drift]:
    types = declared_types(schema)
    if not allows(types, value):
        assert types is not None  # allows() is True for None
        yield Drift(at, types, json_type(value))
        return
    if isinstance(value, dict) and isinstance(schema, dict):
        yield from _walk_object(value, schema, at)
    elif isinstance(value, list) and isinstance(schema, dict) and "items" in schema:
        for item in value:
            yield from _walk_value(item, schema["items"], (*at, "[]"))


def widen(schema: dict[str, Any], drift: Drift) -> bool:
    """Add ``drift.seen`` to the type at ``drift.path`` in ``schema``; False if no such path."""
    node: Any = schema
    for name in drift.path:
        node = node.get("items") if name == "[]" else node.get("properties", {}).get(name)
        if not isinstance(node, dict):
            return False
    types = declared_types(node)
    if types is None or drift.seen in types:
        return False
    wanted = {*types, drift.seen}
    node["type"] = [name for name in _ORDER if name in wanted] + sorted(wanted - set(_ORDER))
    return True
