"""One check per page, column by column: that no record of it needs the record check.

The page is read property by property with C-level iteration (``map``, ``chain``,
``itemgetter``), from the same closures' answers as the record check
(``ObjectShape.fits``, ``ItemsShape``); it says True only when every record would
get 0 from the record check, and False sends the caller to that check.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from itertools import chain, compress, repeat
from operator import is_, itemgetter, ne
from typing import Any

from tap_generic_rest.records.checks.rules import (
    BOTH,
    JSON_CLASSES,
    MAX_INLINE_DEPTH,
    MAX_REMEMBERED,
    MISSING,
    SHAPES,
    ItemsShape,
    Missing,
    ObjectShape,
    ValueCheck,
    object_check,
)

#: Tells that every record of a page would get 0 from the record check (False: it may not).
PageCheck = Callable[[list[Any]], bool]
#: Past that many key layouts remembered per object schema, the memory starts again.
MAX_LAYOUTS = 64
#: Past that many rounds of objects with more keys than the others, they are read by name.
_MAX_GROUPS = 8


def compile_page_check(schema: dict[str, Any]) -> PageCheck:
    """The check that a whole page of records has nothing to report, or False.

    True only when every record would get 0 from :func:`compile_record_check`'s
    check: the same closures (``object_check``) tell what each property allows. The
    page is read column by column with C-level iteration (``map``, ``chain``,
    slices), which costs a fraction of calling the record check per record; a
    False sends the caller to the per-record check, which says which flags.
    """
    if "properties" not in schema:
        return _page_never
    objects = _Columns().of(object_check(schema, BOTH), 0)

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
            shape = SHAPES.get(check)
            if isinstance(shape, ObjectShape) and depth < MAX_INLINE_DEPTH:
                found = _ObjectColumns(self, shape, depth).check
            elif isinstance(shape, ItemsShape) and depth < MAX_INLINE_DEPTH:
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

    def __init__(self, columns: _Columns, shape: ObjectShape, depth: int) -> None:
        self.columns = columns
        self.shape = shape
        self.depth = depth
        self.layouts: dict[tuple[str, ...], _Layout] = {}
        #: Per declared property: its name, the classes that fit (None: all), what to look into.
        self.by_name: list[tuple[str, frozenset[type] | None, _Deeper]] = []
        for name in shape.names:
            quiet, deeper = shape.fits(name)
            everything = quiet.issuperset(JSON_CLASSES)
            if not everything or deeper:
                fit = None if everything else quiet | {Missing}
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
            fit = None if quiet.issuperset(JSON_CLASSES) else quiet
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
            values = list(map(dict.get, objects, repeat(name), repeat(MISSING)))
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

    def __init__(self, columns: _Columns, shape: ItemsShape, depth: int) -> None:
        self.quiet = shape.quiet
        self.deeper = columns.deeper(shape.deeper, depth)

    def check(self, arrays: list[list[Any]]) -> bool:
        items = list(chain.from_iterable(arrays))
        classes = list(map(type, items))
        return self.quiet.issuperset(classes) and _deeper_fit(items, classes, self.deeper)
