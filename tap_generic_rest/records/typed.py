"""The fast record path's typed check: one msgspec type per schema, from the checks' rules.

A record of that type is one today's path would write unchanged: every value of a class
the record check (``checks``) lets through quietly, no drift to widen, nothing the SDK's
conformance would change, and no top-level field the stream has not warned about. The
type is read off the same closures the record and page checks are made of
(``rules.object_check`` and its :data:`~rules.SHAPES`), never from the schema a second
way: per declared property, the classes that need nothing become a union of msgspec
types (``None``, ``bool``, ``int`` or ``float``, ``str``, a nested Struct for an object
with properties, ``list[...]`` of the items' type), and a property that allows any value
is ``msgspec.Raw`` (skipped, never decoded). An object whose undeclared keys the SDK
would drop forbids unknown fields; the record itself forbids them too, but for the
undeclared fields already reported (``extra``), which pass as ``Raw``.

What msgspec cannot say exactly (a float allowed where an integer is not, no class at
all) raises :class:`CannotTypeError`: the stream then keeps today's path for every page.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import reduce
from operator import or_
from typing import TYPE_CHECKING, Any

import msgspec

from tap_generic_rest.records.checks.rules import (
    BOTH,
    JSON_CLASSES,
    SHAPES,
    ItemsShape,
    ObjectShape,
    object_check,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from tap_generic_rest.records.checks.rules import ValueCheck

NoneType = type(None)
_ANY = frozenset(JSON_CLASSES)
#: ``list``, to be subscripted with types made at run time.
_LIST: Any = list


class CannotTypeError(Exception):
    """The schema holds a property the typed check cannot vouch for exactly."""


@dataclass(frozen=True)
class RecordType:
    """The msgspec type of a stream's records, and what its top-level fields are called."""

    type: Any
    #: The Struct's attribute of each top-level JSON field.
    attributes: dict[str, str]
    #: The classes each top-level field may hold with nothing to report (``Raw``: any).
    classes: dict[str, frozenset[type]]


def record_type(schema: dict[str, Any], extra: Iterable[str] = ()) -> RecordType:
    """The msgspec type of one record that today's path would write unchanged.

    ``extra``: undeclared top-level fields already reported, allowed with any value
    (only where the schema lets undeclared fields through: else the SDK drops them).
    """
    if not isinstance(schema.get("properties"), dict):
        msg = "the schema declares no properties"
        raise CannotTypeError(msg)
    check = object_check(schema, BOTH)
    shape = SHAPES.get(check)
    assert isinstance(shape, ObjectShape)
    allowed = () if shape.declared is not None else tuple(sorted(set(extra) - set(shape.names)))
    typer = _Typer()
    made = typer.struct(check, top_extra=allowed)
    attributes = dict(zip(made.__struct_encode_fields__, made.__struct_fields__, strict=True))
    classes = {name: shape.fits(name)[0] for name in shape.names}
    classes.update((name, _ANY) for name in allowed)
    return RecordType(made, attributes, classes)


class _Typer:
    """Builds the msgspec types of one schema's checks, one Struct per object check."""

    def __init__(self) -> None:
        self.count = 0
        self.made: dict[int, Any] = {}

    def struct(self, check: ValueCheck, *, top_extra: tuple[str, ...] | None = None) -> Any:
        found = self.made.get(id(check))
        if found is not None and top_extra is None:
            return found
        shape = SHAPES.get(check)
        if not isinstance(shape, ObjectShape):
            msg = "an object check without a shape"
            raise CannotTypeError(msg)
        fields: list[tuple[str, Any, Any]] = []
        rename: dict[str, str] = {}
        for name in shape.names:
            quiet, deeper = shape.fits(name)
            attr = f"f{len(fields)}"
            rename[attr] = name
            fields.append((attr, self.value(quiet, deeper), None))
        for name in top_extra or ():
            attr = f"f{len(fields)}"
            rename[attr] = name
            fields.append((attr, msgspec.Raw, None))
        self.count += 1
        made = msgspec.defstruct(
            f"Record{self.count}",
            fields,
            rename=rename,
            # The record: every field not declared nor reported is news (a warning to write).
            forbid_unknown_fields=top_extra is not None or shape.declared is not None,
            gc=False,
        )
        if top_extra is None:
            self.made[id(check)] = made
        return made

    def items(self, check: ValueCheck) -> Any:
        shape = SHAPES.get(check)
        if not isinstance(shape, ItemsShape):
            msg = "an items check without a shape"
            raise CannotTypeError(msg)
        return self.value(shape.quiet, shape.deeper)

    def value(self, quiet: frozenset[type], deeper: dict[type, ValueCheck]) -> Any:
        """A union of the msgspec types of the classes in ``quiet`` (``deeper``: look into)."""
        if quiet >= _ANY and not deeper:
            return msgspec.Raw
        if set(deeper) - {dict, list}:
            msg = "a scalar to look into"
            raise CannotTypeError(msg)
        parts: list[Any] = []
        if NoneType in quiet:
            parts.append(NoneType)
        if bool in quiet:
            parts.append(bool)
        numbers = quiet & {int, float, Decimal}
        if numbers == {int, float, Decimal}:
            parts.append(float)  # msgspec's float takes integers too; the bytes stay as sent
        elif numbers == {int}:
            parts.append(int)
        elif numbers:
            msg = "numbers of some kinds only"
            raise CannotTypeError(msg)
        if str in quiet:
            parts.append(str)
        if list in quiet:
            parts.append(_LIST[self.items(deeper[list]) if list in deeper else msgspec.Raw])
        if dict in quiet:
            parts.append(self.struct(deeper[dict]) if dict in deeper else dict[str, msgspec.Raw])
        if not parts:
            msg = "a property no value fits"
            raise CannotTypeError(msg)
        return reduce(or_, parts)
