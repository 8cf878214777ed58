"""What a value of each class means under its schema: the rules both checks are made of.

Both questions a record raises (drift, conformance; see the package's docstring)
depend only on the classes of values and on undeclared keys. :func:`_value_step`
decides once what a value of a class means under its property's schema, and
:func:`object_check` builds the exact closures (per object, per array) that say which
flags a record raises. Each closure's shape is kept in :data:`SHAPES` for the two
fast checks made of it (``generated.py``, ``pages.py``).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from singer_sdk.helpers._typing import (
    _is_exclusive_boolean_type,
    is_object_type,
    is_uniform_list,
)

from tap_generic_rest.records.drift import allowed_classes, declared_types

#: A value may have a type its schema does not allow: look closer (``drift.find_drift``).
DRIFT = 1
#: The SDK's conformance could change the value: the record goes the SDK's way.
CONFORM = 2
BOTH = DRIFT | CONFORM

#: What (property name, value class) pairs mean, remembered per object schema; past that many
#: the memory starts again, so a server sending new keys in every record cannot grow it.
MAX_REMEMBERED = 512

#: Checks one value: the flags it raises (0: it fits, and the SDK leaves it as it is).
ValueCheck = Callable[[Any], int]
#: What a value of a class means: flags raised at once, and a check to run on the value.
_Step = tuple[int, "ValueCheck | None"]

#: Classes whose values the SDK leaves as they are in a boolean-only property: it turns
#: anything else into ``value != 0`` (floats it checks first, None it keeps).
_KEEPS_BOOLEAN = (type(None), bool, float)
MISSING = object()
Missing = type(MISSING)
#: The classes of decoded JSON values (the exact decoder's Decimal included).
JSON_CLASSES = (type(None), bool, int, float, str, list, dict, Decimal)


def _keeps_boolean(cls: type) -> bool:
    return issubclass(cls, _KEEPS_BOOLEAN)


def object_check(schema: dict[str, Any], kinds: int) -> ValueCheck:
    """The check of an object under ``schema``, raising only flags in ``kinds``."""
    found = schema.get("properties")
    properties: dict[str, Any] = found if isinstance(found, dict) else {}
    strict = bool(kinds & CONFORM) and not schema.get("additionalProperties")
    undeclared = CONFORM if strict else 0
    steps: dict[tuple[str, type], _Step] = {}

    def step(name: str, cls: type) -> _Step:
        found = steps.get((name, cls))
        if found is None:
            if len(steps) >= MAX_REMEMBERED:
                steps.clear()
            if name in properties:
                found = _value_step(properties[name], cls, kinds, item=False)
            else:
                found = (undeclared, None)
            steps[name, cls] = found
        return found

    def fits(name: str) -> tuple[frozenset[type], dict[type, ValueCheck]]:
        """The classes of a property's value with nothing to report, and those to look into."""
        deeper = {}
        quiet = set()
        for cls in JSON_CLASSES:
            flags, check = step(name, cls)
            if not flags:
                quiet.add(cls)
                if check is not None:
                    deeper[cls] = check
        return frozenset(quiet), deeper

    def slowly(value: dict[str, Any]) -> int:
        """Every value's step, one by one: an object with something to report."""
        flags = 0
        for name, item in value.items():
            found, deeper = step(name, item.__class__)
            flags |= found
            if deeper is not None:
                flags |= deeper(item)
        return flags

    check = _by_property(properties, strict, fits, slowly)
    declared = frozenset(properties) if strict else None
    SHAPES[check] = ObjectShape(tuple(properties), declared, fits)
    return check


def _by_property(
    properties: dict[str, Any],
    strict: bool,
    fits: Callable[[str], tuple[frozenset[type], dict[type, ValueCheck]]],
    slowly: ValueCheck,
) -> ValueCheck:
    """An object's check: one class test per declared property (a missing one fits)."""
    declared = frozenset(properties)
    tests = []
    nested = []
    for name in properties:
        quiet, deeper = fits(name)
        if not quiet.issuperset(JSON_CLASSES):
            tests.append((name, quiet | {Missing}))
        if deeper:
            nested.append((name, deeper))

    def check(value: dict[str, Any]) -> int:
        if strict and not declared.issuperset(value):
            return slowly(value)
        get = value.get
        for name, quiet in tests:
            if get(name, MISSING).__class__ not in quiet:
                return slowly(value)
        flags = 0
        for name, deeper in nested:
            item = get(name, MISSING)
            found = deeper.get(item.__class__)
            if found is not None:
                flags |= found(item)
        return flags

    return check


def _items(schema: Any, kinds: int) -> ValueCheck:
    """The check of an array's items under the items' ``schema``, per item class."""
    steps: dict[type, _Step] = {}

    def learn(cls: type) -> _Step:
        step = steps[cls] = _value_step(schema, cls, kinds, item=True)
        return step

    quiet = frozenset(cls for cls in JSON_CLASSES if learn(cls)[0] == 0)

    def check(values: list[Any]) -> int:
        classes = set(map(type, values))
        if quiet.issuperset(classes) and not any(steps[cls][1] for cls in classes):
            return 0
        flags = 0
        for cls in classes:
            step = steps.get(cls) or learn(cls)
            flags |= step[0]
            deeper = step[1]
            if deeper is not None:
                for item in values:
                    if item.__class__ is cls:
                        flags |= deeper(item)
        return flags

    SHAPES[check] = ItemsShape(quiet, {cls: step[1] for cls, step in steps.items() if step[1]})
    return check


def _value_step(schema: Any, cls: type, kinds: int, *, item: bool) -> _Step:
    """What a value of class ``cls`` means under its ``schema`` (a property's, or the items').

    Objects and arrays are looked into once for both flags. Conformance follows the
    SDK: a property is conformed as a list, else an object, else a boolean; an array
    item as an object, else a boolean (``_conform_record_data_types``).
    """
    if not isinstance(schema, dict):  # a boolean schema: the SDK decides, no declared type
        return (0 if item else kinds & CONFORM, None)
    flags = 0
    object_kinds = 0
    item_kinds = 0
    if kinds & DRIFT:
        types = declared_types(schema)
        if types is not None and cls not in allowed_classes(types):
            flags |= DRIFT
        if cls is dict and isinstance(schema.get("properties"), dict):
            object_kinds |= DRIFT
        if cls is list and isinstance(schema.get("items"), dict):
            item_kinds |= DRIFT
    if kinds & CONFORM:
        is_object = bool(is_object_type(schema))
        if not item and is_uniform_list(schema) and issubclass(cls, list):
            item_kinds |= CONFORM
        elif is_object and issubclass(cls, dict) and "properties" in schema:
            object_kinds |= CONFORM
        elif is_object and issubclass(cls, dict) and item:
            flags |= CONFORM  # object items without properties: the SDK fails, as it will
        elif _is_exclusive_boolean_type(schema) and not _keeps_boolean(cls):
            flags |= CONFORM
    deeper: ValueCheck | None = None
    if object_kinds:
        deeper = object_check(schema, object_kinds)
    if item_kinds:
        deeper = _either(deeper, _items(schema["items"], item_kinds))
    return (flags, deeper)


def _either(first: ValueCheck | None, second: ValueCheck | None) -> ValueCheck | None:
    """Both checks' flags (one of them when the other is None)."""
    if first is None:
        return second
    if second is None:
        return first
    return lambda value: first(value) | second(value)


# --- the shapes the fast checks are made from ---------------------------------------------


@dataclass(frozen=True)
class ObjectShape:
    """What generating an object check's code needs: its properties, in order."""

    names: tuple[str, ...]
    #: The declared names, when undeclared keys are to be flagged.
    declared: frozenset[str] | None
    fits: Callable[[str], tuple[frozenset[type], dict[type, ValueCheck]]]


@dataclass(frozen=True)
class ItemsShape:
    """What generating an items check's code needs."""

    quiet: frozenset[type]
    deeper: dict[type, ValueCheck]


#: The shape of each object and items check, for the code generator.
SHAPES: weakref.WeakKeyDictionary[ValueCheck, ObjectShape | ItemsShape] = (
    weakref.WeakKeyDictionary()
)
#: Nesting below which the generated code calls the nested check instead of inlining it.
MAX_INLINE_DEPTH = 6
