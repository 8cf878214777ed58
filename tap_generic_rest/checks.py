"""One check per record for both questions a record raises before it is written.

* Drift (``drift.py``): may a value have a JSON type the schema does not allow?
  Then the stream looks closer (``find_drift``) and widens the schema.
* Conformance (``emit.py``): could the SDK's ``conform_record_data_types`` change
  the record (a boolean-only property holding something else than true, false or
  null; undeclared keys of an object whose ``additionalProperties`` is unset)?
  Then the record goes through the SDK's own conformance.

Both answers depend only on which keys an object has and the classes of their
values, except inside nested objects and arrays. So an object check remembers, per
*signature* (its keys, in order: records of one API almost always share a handful),
the classes each position may hold without anything to report, and which nested
values to look into. A record then costs one tuple of its keys, one dict lookup
and one pass in C over its values' classes (``all(map(contains, ...))``), plus its
nested objects, whatever the number of properties the schema declares; only a
record with something to report is looked at value by value. What a property's
class means is decided by the same rules as before, written once here:

* drift: a value's exact class among the classes its declared ``type`` allows
  (``drift.allowed_classes``); nested objects and array items are followed;
* conformance: the SDK's own schema tests (``is_uniform_list``, ``is_object_type``,
  ``_is_exclusive_boolean_type``) mirror ``_conform_record_data_types`` for values
  decoded from JSON.

Flags over-approximate, never miss: a record flagged for drift may turn out to
fit (an integral float in an integer field), a record flagged for conformance goes
the SDK's slower but exact way.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from operator import contains
from typing import Any

from singer_sdk.helpers._typing import (
    _is_exclusive_boolean_type,
    is_object_type,
    is_uniform_list,
)

from tap_generic_rest.drift import allowed_classes, declared_types

#: A value may have a type its schema does not allow: look closer (``drift.find_drift``).
DRIFT = 1
#: The SDK's conformance could change the value: the record goes the SDK's way.
CONFORM = 2
BOTH = DRIFT | CONFORM

#: Signatures (and property classes) remembered per object schema; past that many the memory
#: starts again, so a server sending new keys in every record cannot grow it.
MAX_SIGNATURES = 512

#: Checks one value: the flags it raises (0: it fits, and the SDK leaves it as it is).
ValueCheck = Callable[[Any], int]
#: What a signature or a class means: flags raised at once, and a check to run on the value.
_Step = tuple[int, "ValueCheck | None"]

#: Classes whose values the SDK leaves as they are in a boolean-only property: it turns
#: anything else into ``value != 0`` (floats it checks first, None it keeps).
_KEEPS_BOOLEAN = (type(None), bool, float)
#: Declared properties up to which an object is checked property by property; a wider one
#: (a record) is checked by signature.
_FEW_PROPERTIES = 12
_MISSING = object()
_Missing = type(_MISSING)
#: The classes of decoded JSON values (the exact decoder's Decimal included).
_JSON_CLASSES = (type(None), bool, int, float, str, list, dict, Decimal)


def compile_record_check(schema: dict[str, Any]) -> ValueCheck:
    """The check of a stream's records against its (effective) schema."""
    if "properties" not in schema:
        return _conform_always  # the SDK's conformance needs properties: leave it to the SDK
    return _object(schema, BOTH)


def _conform_always(_: Any) -> int:
    return CONFORM


def _keeps_boolean(cls: type) -> bool:
    return issubclass(cls, _KEEPS_BOOLEAN)


def _object(schema: dict[str, Any], kinds: int) -> ValueCheck:
    """The check of an object under ``schema``, raising only flags in ``kinds``."""
    found = schema.get("properties")
    properties: dict[str, Any] = found if isinstance(found, dict) else {}
    strict = bool(kinds & CONFORM) and not schema.get("additionalProperties")
    undeclared = CONFORM if strict else 0
    steps: dict[tuple[str, type], _Step] = {}

    def step(name: str, cls: type) -> _Step:
        found = steps.get((name, cls))
        if found is None:
            if len(steps) >= MAX_SIGNATURES:
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
        for cls in _JSON_CLASSES:
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

    if len(properties) > _FEW_PROPERTIES:
        return _by_signature(fits, slowly)
    return _by_property(properties, strict, fits, slowly)


def _by_signature(
    fits: Callable[[str], tuple[frozenset[type], dict[type, ValueCheck]]],
    slowly: ValueCheck,
) -> ValueCheck:
    """A wide object's check: per signature (its keys), what each position may hold."""
    plans: dict[tuple[str, ...], tuple[tuple[frozenset[type], ...], tuple[Any, ...]]] = {}

    def learn(keys: tuple[str, ...]) -> tuple[tuple[frozenset[type], ...], tuple[Any, ...]]:
        if len(plans) >= MAX_SIGNATURES:
            plans.clear()
        each = [fits(name) for name in keys]
        nested = tuple(
            (name, deeper) for name, (_, deeper) in zip(keys, each, strict=True) if deeper
        )
        plan = plans[keys] = (tuple(quiet for quiet, _ in each), nested)
        return plan

    def check(value: dict[str, Any]) -> int:
        keys = tuple(value)
        plan = plans.get(keys) or learn(keys)
        if not all(map(contains, plan[0], map(type, value.values()))):
            return slowly(value)
        flags = 0
        for name, deeper in plan[1]:
            item = value[name]
            found = deeper.get(item.__class__)
            if found is not None:
                flags |= found(item)
        return flags

    return check


def _by_property(
    properties: dict[str, Any],
    strict: bool,
    fits: Callable[[str], tuple[frozenset[type], dict[type, ValueCheck]]],
    slowly: ValueCheck,
) -> ValueCheck:
    """A small object's check: one class test per declared property (a missing one fits)."""
    declared = frozenset(properties)
    tests = []
    nested = []
    for name in properties:
        quiet, deeper = fits(name)
        if not quiet.issuperset(_JSON_CLASSES):
            tests.append((name, quiet | {_Missing}))
        if deeper:
            nested.append((name, deeper))

    def check(value: dict[str, Any]) -> int:
        if strict and not declared.issuperset(value):
            return slowly(value)
        get = value.get
        for name, quiet in tests:
            if get(name, _MISSING).__class__ not in quiet:
                return slowly(value)
        flags = 0
        for name, deeper in nested:
            item = get(name, _MISSING)
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

    quiet = frozenset(cls for cls in _JSON_CLASSES if learn(cls) == (0, None))

    def check(values: list[Any]) -> int:
        classes = set(map(type, values))
        if quiet.issuperset(classes):
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
        deeper = _object(schema, object_kinds)
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
