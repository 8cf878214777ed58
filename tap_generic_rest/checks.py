"""One check per record for both questions a record raises before it is written.

* Drift (``drift.py``): may a value have a JSON type the schema does not allow?
  Then the stream looks closer (``find_drift``) and widens the schema.
* Conformance (``emit.py``): could the SDK's ``conform_record_data_types`` change
  the record (a boolean-only property holding something else than true, false or
  null; undeclared keys of an object whose ``additionalProperties`` is unset)?
  Then the record goes through the SDK's own conformance.

Both answers depend only on which keys an object has and the classes of their
values, except inside nested objects and arrays. So an object check remembers, per
*signature* (its keys and their values' classes, in order), what that signature
means: the flags it raises and which nested values to look into. Records of one
page almost always share a handful of signatures, so a record costs two tuples
and one dict lookup, plus its nested objects, whatever the number of properties
the schema declares. What a signature means is decided by the same rules as
before, written once here:

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
    undeclared = CONFORM if kinds & CONFORM and not schema.get("additionalProperties") else 0
    plans: dict[tuple[tuple[str, ...], tuple[type, ...]], tuple[int, tuple[Any, ...]]] = {}
    steps: dict[tuple[str, type], _Step] = {}

    def learn(keys: tuple[str, ...], classes: tuple[type, ...]) -> tuple[int, tuple[Any, ...]]:
        flags = 0
        nested = []
        for name, cls in zip(keys, classes, strict=True):
            step = steps.get((name, cls))
            if step is None:
                if name in properties:
                    step = _value_step(properties[name], cls, kinds)
                else:
                    step = (undeclared, None)
                if len(steps) >= MAX_SIGNATURES:
                    steps.clear()
                steps[name, cls] = step
            flags |= step[0]
            if step[1] is not None:
                nested.append((name, step[1]))
        if len(plans) >= MAX_SIGNATURES:
            plans.clear()
        plan = plans[keys, classes] = (flags, tuple(nested))
        return plan

    def check(value: dict[str, Any]) -> int:
        keys = tuple(value)
        classes = tuple(map(type, value.values()))
        plan = plans.get((keys, classes)) or learn(keys, classes)
        flags = plan[0]
        for name, deeper in plan[1]:
            flags |= deeper(value[name])
        return flags

    return check


def _items(schema: Any, kinds: int, conform: Callable[[type], _Step] | None) -> ValueCheck:
    """The check of an array's items: drift under ``schema``; ``conform``'s verdict per class."""
    steps: dict[type, _Step] = {}

    def learn(cls: type) -> _Step:
        flags, deeper = _drift_step(schema, cls) if kinds & DRIFT else (0, None)
        if conform is not None:
            more, other = conform(cls)
            flags |= more
            deeper = _either(deeper, other)
        step = steps[cls] = (flags, deeper)
        return step

    def check(values: list[Any]) -> int:
        flags = 0
        for cls in set(map(type, values)):
            step = steps.get(cls) or learn(cls)
            flags |= step[0]
            deeper = step[1]
            if deeper is not None:
                for item in values:
                    if item.__class__ is cls:
                        flags |= deeper(item)
        return flags

    return check


def _value_step(schema: Any, cls: type, kinds: int) -> _Step:
    """What a property's value of class ``cls`` means under the property's ``schema``."""
    if not isinstance(schema, dict):  # a boolean schema: the SDK decides, no declared type
        return (kinds & CONFORM, None)
    # Objects and arrays checked for both at once, in one pass over their contents.
    object_kinds = 0
    if kinds & DRIFT and cls is dict and isinstance(schema.get("properties"), dict):
        object_kinds |= DRIFT
    if kinds & CONFORM and _conforms_as_object(schema, cls):
        object_kinds |= CONFORM
    flags = 0
    if kinds & DRIFT:
        types = declared_types(schema)
        if types is not None and cls not in allowed_classes(types):
            flags |= DRIFT
    deeper: ValueCheck | None = _object(schema, object_kinds) if object_kinds else None
    item_kinds = DRIFT if kinds & DRIFT and cls is list and isinstance(schema.get("items"), dict) else 0
    conform_items = None
    if kinds & CONFORM:
        if is_uniform_list(schema) and issubclass(cls, list):
            conform_items = _item_conformance(schema["items"])
        elif (
            not _conforms_as_object(schema, cls)
            and _is_exclusive_boolean_type(schema)
            and not _keeps_boolean(cls)
        ):
            flags |= CONFORM
    if item_kinds or conform_items is not None:
        deeper = _either(deeper, _items(schema.get("items"), item_kinds, conform_items))
    return (flags, deeper)


def _conforms_as_object(schema: dict[str, Any], cls: type) -> bool:
    """Whether the SDK conforms a value of ``cls`` as an object of ``schema``'s properties."""
    return (
        issubclass(cls, dict)
        and bool(is_object_type(schema))
        and "properties" in schema
    )


def _drift_step(schema: Any, cls: type) -> _Step:
    """Drift of an array item of class ``cls`` under the items' ``schema``."""
    if not isinstance(schema, dict):
        return (0, None)
    return _value_step(schema, cls, DRIFT)


def _item_conformance(schema: dict[str, Any]) -> Callable[[type], _Step]:
    """The SDK's conformance of one array item of a class, under the items' ``schema``."""
    objects = bool(is_object_type(schema))
    # An object item schema without properties makes the SDK fail on any object item:
    # such a record goes the SDK's way, to fail the same way.
    unusable = objects and "properties" not in schema
    boolean = _is_exclusive_boolean_type(schema)

    def step(cls: type) -> _Step:
        if objects and issubclass(cls, dict):
            return (CONFORM, None) if unusable else (0, _object(schema, CONFORM))
        return (CONFORM if boolean and not _keeps_boolean(cls) else 0, None)

    return step


def _either(first: ValueCheck | None, second: ValueCheck | None) -> ValueCheck | None:
    """Both checks' flags (one of them when the other is None)."""
    if first is None:
        return second
    if second is None:
        return first
    return lambda value: first(value) | second(value)
