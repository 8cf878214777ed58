"""One check per record for both questions a record raises before it is written.

* Drift (``drift.py``): may a value have a JSON type the schema does not allow?
  Then the stream looks closer (``find_drift``) and widens the schema.
* Conformance (``emit.py``): could the SDK's ``conform_record_data_types`` change
  the record (a boolean-only property holding something else than true, false or
  null; undeclared keys of an object whose ``additionalProperties`` is unset)?
  Then the record goes through the SDK's own conformance.

Both answers depend only on the classes of values (and on undeclared keys), down
through nested objects and arrays. What a value of a class means under its
property's schema is decided once (:func:`_value_step`) by the same rules as
before, written once here:

* drift: a value's exact class among the classes its declared ``type`` allows
  (``drift.allowed_classes``); nested objects and array items are followed;
* conformance: the SDK's own schema tests (``is_uniform_list``, ``is_object_type``,
  ``_is_exclusive_boolean_type``) mirror ``_conform_record_data_types`` for values
  decoded from JSON.

The checks made of these rules (closures per object and per array, remembering
what each property name and class meant) say exactly which flags a record raises.
From them, :func:`compile_record_check` generates ONE flat function per schema
(``_Generator``): per declared property a ``get`` and one class test against the
classes that need nothing, nested objects and arrays inlined, no call per value.
A record with nothing to report (nearly all of them) costs that one function; any
other goes to the exact checks. Property names enter the code only as ``repr``
literals; everything else is bound as a value, never written as code.

A page of records with nothing to report can skip that function altogether:
:func:`compile_page_check` reads the page column by column (``_ObjectColumns``,
``_ItemsColumns``) with C-level iteration, from the same closures' answers
(``_ObjectShape.fits``, ``_ItemsShape``), and says True only when every record
would get 0.

Flags over-approximate, never miss: a record flagged for drift may turn out to
fit (an integral float in an integer field), a record flagged for conformance goes
the SDK's slower but exact way.
"""

from __future__ import annotations

import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from itertools import chain, compress, repeat
from operator import is_, itemgetter, ne
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
_MISSING = object()
_Missing = type(_MISSING)
#: The classes of decoded JSON values (the exact decoder's Decimal included).
_JSON_CLASSES = (type(None), bool, int, float, str, list, dict, Decimal)


def compile_record_check(schema: dict[str, Any]) -> ValueCheck:
    """The check of a stream's records against its (effective) schema."""
    if "properties" not in schema:
        return _conform_always  # the SDK's conformance needs properties: leave it to the SDK
    return _generate(_object(schema, BOTH))


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

    check = _by_property(properties, strict, fits, slowly)
    declared = frozenset(properties) if strict else None
    _SHAPES[check] = _ObjectShape(tuple(properties), declared, fits)
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

    quiet = frozenset(cls for cls in _JSON_CLASSES if learn(cls)[0] == 0)

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

    _SHAPES[check] = _ItemsShape(quiet, {cls: step[1] for cls, step in steps.items() if step[1]})
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


# --- one generated function per schema ------------------------------------------------------


@dataclass(frozen=True)
class _ObjectShape:
    """What generating an object check's code needs: its properties, in order."""

    names: tuple[str, ...]
    #: The declared names, when undeclared keys are to be flagged.
    declared: frozenset[str] | None
    fits: Callable[[str], tuple[frozenset[type], dict[type, ValueCheck]]]


@dataclass(frozen=True)
class _ItemsShape:
    """What generating an items check's code needs."""

    quiet: frozenset[type]
    deeper: dict[type, ValueCheck]


#: The shape of each object and items check, for the code generator.
_SHAPES: weakref.WeakKeyDictionary[ValueCheck, _ObjectShape | _ItemsShape] = (
    weakref.WeakKeyDictionary()
)
#: Nesting below which the generated code calls the nested check instead of inlining it.
_MAX_INLINE_DEPTH = 6


class _Generator:
    """Writes one Python function that tells, in one pass, that a record needs nothing.

    The generated function returns 0 at once for such a record, and hands any other
    one to the closures' exact check (``exact(r)``), which says which flags it raises.
    Nothing from the schema or the data is written into the code but property names,
    as ``repr`` string literals; every other value (sets of classes, checks) is a
    name bound in the function's namespace.
    """

    def __init__(self) -> None:
        self.lines = ["def generated(r):"]
        self.namespace: dict[str, Any] = {"M": _MISSING}
        self.count = 0

    def name(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def const(self, value: Any) -> str:
        key = self.name("k")
        self.namespace[key] = value
        return key

    def emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)

    def object(self, check: ValueCheck, var: str, indent: int, depth: int) -> None:
        shape = _SHAPES[check]
        assert isinstance(shape, _ObjectShape)
        if shape.declared is not None:
            self.emit(indent, f"if not {self.const(shape.declared)}.issuperset({var}):")
            self.emit(indent + 1, "return exact(r)")
        get = self.name("g")
        self.emit(indent, f"{get} = {var}.get")
        for name in shape.names:
            quiet, deeper = shape.fits(name)
            if quiet.issuperset(_JSON_CLASSES) and not deeper:
                continue
            item = self.name("v")
            self.emit(indent, f"{item} = {get}({name!r}, M)")
            if not quiet.issuperset(_JSON_CLASSES):
                self.emit(indent, f"if {item}.__class__ not in {self.const(quiet | {_Missing})}:")
                self.emit(indent + 1, "return exact(r)")
            self.deeper(deeper, item, indent, depth)

    def deeper(self, deeper: dict[type, ValueCheck], var: str, indent: int, depth: int) -> None:
        for cls, check in deeper.items():
            shape = _SHAPES.get(check)
            self.emit(indent, f"if {var}.__class__ is {self.const(cls)}:")
            if shape is None or depth >= _MAX_INLINE_DEPTH:
                self.emit(indent + 1, f"if {self.const(check)}({var}):")
                self.emit(indent + 2, "return exact(r)")
            elif isinstance(shape, _ObjectShape):
                self.emit(indent + 1, "pass")
                self.object(check, var, indent + 1, depth + 1)
            else:
                item = self.name("i")
                self.emit(indent + 1, f"for {item} in {var}:")
                self.emit(indent + 2, f"if {item}.__class__ not in {self.const(shape.quiet)}:")
                self.emit(indent + 3, "return exact(r)")
                self.deeper(shape.deeper, item, indent + 2, depth + 1)


def _generate(check: ValueCheck) -> ValueCheck:
    """One flat function doing ``check``'s work for records with nothing to report."""
    generator = _Generator()
    generator.object(check, "r", 1, 0)
    generator.emit(1, "return 0")
    generator.namespace["exact"] = check
    code = compile("\n".join(generator.lines), "<record check>", "exec")
    exec(code, generator.namespace)  # noqa: S102  # names as repr literals, values as bindings
    generated: ValueCheck = generator.namespace["generated"]
    return generated


# --- one check per page, column by column ---------------------------------------------------

#: Tells that every record of a page would get 0 from the record check (False: it may not).
PageCheck = Callable[[list[Any]], bool]
#: Past that many key layouts remembered per object schema, the memory starts again.
MAX_LAYOUTS = 64
#: Past that many rounds of objects with more keys than the others, they are read by name.
_MAX_GROUPS = 8


def compile_page_check(schema: dict[str, Any]) -> PageCheck:
    """The check that a whole page of records has nothing to report, or False.

    True only when every record would get 0 from :func:`compile_record_check`'s
    check: the same closures (``_object``) tell what each property allows. The
    page is read column by column with C-level iteration (``map``, ``chain``,
    slices), which costs a fraction of calling the record check per record; a
    False sends the caller to the per-record check, which says which flags.
    """
    if "properties" not in schema:
        return _page_never
    objects = _Columns().of(_object(schema, BOTH), 0)

    def page_check(records: list[Any]) -> bool:
        if type(records) is not list:
            records = list(records)
        if not all(map(is_, map(type, records), repeat(dict))):
            return False  # not a page of JSON objects: the record check decides
        return objects(records)

    return page_check


def _page_never(_: list[Any]) -> bool:
    return False


#: Checks a column of values of one class: True when the record check has nothing to say.
_ColumnCheck = Callable[[list[Any]], bool]


class _Columns:
    """Column checks for the object and items checks a schema is made of, one each."""

    def __init__(self) -> None:
        self.made: dict[ValueCheck, _ColumnCheck] = {}

    def of(self, check: ValueCheck, depth: int) -> _ColumnCheck:
        found = self.made.get(check)
        if found is None:
            if len(self.made) >= MAX_REMEMBERED:
                self.made.clear()
            shape = _SHAPES.get(check)
            if isinstance(shape, _ObjectShape) and depth < _MAX_INLINE_DEPTH:
                found = _ObjectColumns(self, shape, depth).check
            elif isinstance(shape, _ItemsShape) and depth < _MAX_INLINE_DEPTH:
                found = _ItemsColumns(self, shape, depth).check
            else:

                def found(values: list[Any]) -> bool:
                    return not any(map(check, values))

            self.made[check] = found
        return found

    def deeper(self, deeper: dict[type, ValueCheck], depth: int) -> list[tuple[type, _ColumnCheck]]:
        return [(cls, self.of(check, depth + 1)) for cls, check in deeper.items()]


def _deeper_fit(values: list[Any], classes: list[type], deeper: _Deeper) -> bool:
    """Whether the values of each class looked into (``classes``: theirs, in order) fit."""
    for cls, check in deeper:
        count = classes.count(cls)
        if count == len(values):
            return check(values)
        if count and not check(list(compress(values, map(is_, classes, repeat(cls))))):
            return False
    return True


class _ObjectColumns:
    """The check of a column of objects, property by property.

    Objects with the same keys (a server writes its records alike, in one order or
    not) are read by position: one ``itemgetter`` of those keys gives all values
    in one flat list, and each property's classes are every ``width``-th of their
    classes. A page of a few key counts is read per count; objects with other keys
    than the first of their count, or of many counts, are read by name
    (``dict.get`` per declared property).
    """

    def __init__(self, columns: _Columns, shape: _ObjectShape, depth: int) -> None:
        self.columns = columns
        self.shape = shape
        self.depth = depth
        self.layouts: dict[tuple[str, ...], _Layout] = {}
        #: Per declared property: its name, the classes that fit (None: all), what to look into.
        self.by_name: list[tuple[str, frozenset[type] | None, _Deeper]] = []
        for name in shape.names:
            quiet, deeper = shape.fits(name)
            everything = quiet.issuperset(_JSON_CLASSES)
            if not everything or deeper:
                fit = None if everything else quiet | {_Missing}
                self.by_name.append((name, fit, columns.deeper(deeper, depth)))
        #: The declared properties that could need a look.
        self.looked_at = frozenset(name for name, _, _ in self.by_name)

    def check(self, objects: list[dict[str, Any]], rounds: int = _MAX_GROUPS) -> bool:
        """Read by the keys of the first object, or of the one with fewest keys.

        Every object holding those keys, the others have more; when these could
        need a look, those objects are read again, by theirs (``rounds`` times).
        """
        if not objects:
            return True
        layout = tuple(objects[0])
        plan = self.layouts.get(layout) or self.plan(layout)
        if plan[3] is not None and not plan[3]:
            return self.by_layout(objects, plan)  # any other key needs nothing
        lengths = list(map(len, objects))
        least = min(lengths)
        if least != len(layout):
            layout = tuple(objects[lengths.index(least)])
            plan = self.layouts.get(layout) or self.plan(layout)
        if not self.by_layout(objects, plan):
            return False
        if lengths.count(least) == len(lengths):
            return True  # all with exactly those keys
        more = list(compress(objects, map(ne, lengths, repeat(least))))
        if plan[3] is not None and all(map(plan[3].isdisjoint, more)):
            return True  # their other keys need nothing
        return self.check(more, rounds - 1) if rounds else self.by_names(more)

    def by_layout(self, objects: list[dict[str, Any]], plan: _Layout) -> bool:
        """Objects read by the names of the plan's layout, or by name when some lack one.

        Only those names are read: the caller looks at any other key the objects have.
        """
        tested, deepers, present, _ = plan
        columns = []
        try:
            for getter, quiet in tested:
                if not quiet.issuperset(map(type, map(getter, objects))):
                    return False
            for getter, _, _ in deepers:
                columns.append(list(map(getter, objects)))
            if present is not None:
                deque(map(present, objects), 0)
        except KeyError:
            return self.by_names(objects)  # other keys than the first object's
        for column, (_, fit, deeper) in zip(columns, deepers, strict=True):
            classes = list(map(type, column))
            if fit is not None and not fit.issuperset(classes):
                return False
            if not _deeper_fit(column, classes, deeper):
                return False
        return True

    def plan(self, layout: tuple[str, ...]) -> _Layout:
        """How to read objects with these keys (an undeclared one of a strict object fits none)."""
        if len(self.layouts) >= MAX_LAYOUTS:
            self.layouts.clear()
        tested: list[tuple[Callable[[Any], Any], frozenset[type]]] = []
        deepers: list[tuple[Callable[[Any], Any], frozenset[type] | None, _Deeper]] = []
        untested = []
        for name in layout:
            quiet, deeper = self.shape.fits(name)
            fit = None if quiet.issuperset(_JSON_CLASSES) else quiet
            if deeper:
                deepers.append((itemgetter(name), fit, self.columns.deeper(deeper, self.depth)))
            elif fit is not None:
                tested.append((itemgetter(name), fit))
            else:
                untested.append(name)
        # Undeclared keys passed through, the properties that could need a look and are not
        # among these keys: other keys of an object holding these need a look if among them.
        missing = None if self.shape.declared is not None else self.looked_at.difference(layout)
        present = itemgetter(*untested) if untested and missing != frozenset() else None
        plan = self.layouts[layout] = (tested, deepers, present, missing)
        return plan

    def by_names(self, objects: list[dict[str, Any]]) -> bool:
        declared = self.shape.declared
        if declared is not None and not all(map(declared.issuperset, objects)):
            return False
        for name, quiet, deeper in self.by_name:
            values = list(map(dict.get, objects, repeat(name), repeat(_MISSING)))
            classes = list(map(type, values))
            if quiet is not None and not quiet.issuperset(classes):
                return False
            if deeper and not _deeper_fit(values, classes, deeper):
                return False
        return True


#: The columns to look into for values of some classes.
_Deeper = list[tuple[type, _ColumnCheck]]
#: How to read objects with one set of keys: per property to test, its getter and the
#: classes that fit; per property to look into, its getter, the classes that fit (None: all)
#: and the columns to look into; a getter of the other keys (that the objects have them);
#: for an object whose undeclared keys pass, the properties that could need a look besides.
_Layout = tuple[
    list[tuple[Callable[[Any], Any], "frozenset[type]"]],
    list[tuple[Callable[[Any], Any], "frozenset[type] | None", _Deeper]],
    "Callable[[Any], Any] | None",
    "frozenset[str] | None",
]


class _ItemsColumns:
    """The check of a column of arrays: all their items at once."""

    def __init__(self, columns: _Columns, shape: _ItemsShape, depth: int) -> None:
        self.quiet = shape.quiet
        self.deeper = columns.deeper(shape.deeper, depth)

    def check(self, arrays: list[list[Any]]) -> bool:
        items = list(chain.from_iterable(arrays))
        classes = list(map(type, items))
        return self.quiet.issuperset(classes) and _deeper_fit(items, classes, self.deeper)
