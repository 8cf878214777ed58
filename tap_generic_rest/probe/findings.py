"""What a stream's sampled records say about its schema: gathered record by record.

Values whose type the schema does not allow are found by
:func:`tap_generic_rest.records.drift.find_drift`, the very check that makes a sync widen
the schema; the probe compares each record with the schema as it was before the
run, so it counts what a sync would widen. Undeclared fields, at any depth, and the
range of the replication key are read here.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson

from tap_generic_rest.records.drift import Drift, find_drift, json_type
from tap_generic_rest.redact import redact

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

#: Longest example value shown, after masking (masked first, so a cut never shows part
#: of a secret).
EXAMPLE_CHARS = 60

#: JSON types whose values have an order, and which of them compare with each other.
_ORDERED = {"string": "string", "integer": "number", "number": "number"}


def example(value: Any) -> str:
    """A value as JSON, secrets masked, cut to :data:`EXAMPLE_CHARS`."""
    try:
        text = (
            str(value) if isinstance(value, Decimal) else orjson.dumps(value, default=str).decode()
        )
    except TypeError:  # an integer beyond 64 bits, a lone surrogate: the exact decoder's values
        text = json.dumps(value, default=str)
    text = redact(text)
    return text if len(text) <= EXAMPLE_CHARS else text[: EXAMPLE_CHARS - 1] + "…"


class Undeclared(NamedTuple):
    """A field the schema of its object does not declare, and its value's JSON type."""

    field: str
    seen: str


def undeclared(
    record: Mapping[str, Any], schema: Mapping[str, Any], prefix: str = ""
) -> Iterator[Undeclared]:
    """Fields of ``record`` (and of its nested objects) that their schema does not declare.

    An object schema without ``properties`` declares nothing in particular (a free
    map such as ``custom_attributes``): its keys are not reported.
    """
    properties = schema.get("properties")
    if not isinstance(properties, dict) or not properties:
        return
    for name, value in record.items():
        prop = properties.get(name)
        path = f"{prefix}{name}"
        if prop is None:
            yield Undeclared(path, json_type(value))
        elif isinstance(prop, dict):
            yield from _undeclared_inside(path, value, prop)


def _undeclared_inside(path: str, value: Any, prop: Mapping[str, Any]) -> Iterator[Undeclared]:
    if isinstance(value, dict):
        yield from undeclared(value, prop, f"{path}.")
    elif isinstance(value, list) and isinstance(prop.get("items"), dict):
        for item in value:
            yield from _undeclared_inside(f"{path}[]", item, prop["items"])


def value_at(record: Any, drift: Drift) -> Any:
    """The first value at ``drift.path`` in ``record`` whose type is the one seen."""
    values = [record]
    for name in drift.path:
        if name == "[]":
            values = [item for value in values if isinstance(value, list) for item in value]
        else:
            values = [value[name] for value in values if isinstance(value, dict) and name in value]
    return next((value for value in values if json_type(value) == drift.seen), None)


@dataclass
class TypeDrift:
    """Values of one field whose type (``seen``) the schema (``declared``) does not allow."""

    field: str
    declared: tuple[str, ...]
    seen: str
    #: Records holding such a value.
    count: int
    example: str


@dataclass
class RecordFindings:
    """Everything the records of one stream showed, updated with :meth:`add`."""

    schema: Mapping[str, Any]
    primary_keys: Sequence[str]
    replication_key: str | None = None
    records: int = 0
    #: Undeclared field -> its JSON types seen, with counts.
    undeclared: dict[str, Counter[str]] = field(default_factory=dict)
    drift: dict[tuple[str, str], TypeDrift] = field(default_factory=dict)
    replication_min: Any = None
    replication_max: Any = None

    def __post_init__(self) -> None:
        # The stream widens its own schema as drift arrives; the sample is compared with
        # the schema as it was declared.
        self.schema = copy.deepcopy(dict(self.schema))

    def add(self, record: Mapping[str, Any]) -> None:
        """Take one record into account."""
        self.records += 1
        for found in undeclared(record, self.schema):
            self.undeclared.setdefault(found.field, Counter())[found.seen] += 1
        for drift in find_drift(dict(record), dict(self.schema)):
            known = self.drift.get((drift.field, drift.seen))
            if known is None:
                shown = example(value_at(record, drift))
                self.drift[drift.field, drift.seen] = TypeDrift(
                    drift.field, drift.declared, drift.seen, count=1, example=shown
                )
            else:
                known.count += 1
        if self.replication_key is not None:
            self._widen_range(record.get(self.replication_key))

    def _widen_range(self, value: Any) -> None:
        kind = _ORDERED.get(json_type(value))
        if kind is None:  # null, or a value without an order
            return
        low, high = self.replication_min, self.replication_max
        if low is None or _ORDERED.get(json_type(low)) != kind:
            # The first value, or one of another type than before (that is drift, reported
            # above): the range restarts rather than compare a string with a number.
            self.replication_min = self.replication_max = value
            return
        self.replication_min = min(low, value)
        self.replication_max = max(high, value)

    @property
    def has_drift(self) -> bool:
        """Whether the sample does not fit the schema."""
        return bool(self.undeclared or self.drift)
