"""The fast path's page checks never miss: drift, records the SDK would change, long numbers.

The conformance half is checked against the SDK itself in test_fastpath.py; here the
drift half against ``find_drift``, both through the generated function and the exact
checks it hands records to, and the memory they keep.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from tap_generic_rest import checks, payload
from tap_generic_rest.checks import CONFORM, DRIFT, compile_record_check
from tap_generic_rest.drift import find_drift
from tap_generic_rest.payload import exact_loads, has_long_number, loads
from tests.test_fastpath import SCHEMAS, VALUES, _records

WIDE: dict[str, Any] = {
    "type": "object",
    "additionalProperties": True,
    "properties": {
        **{f"s{i}": {"type": ["string", "null"]} for i in range(14)},
        "i": {"type": ["integer", "null"]},
        "b": {"type": ["boolean", "null"]},
        "o": {
            "type": ["object", "null"],
            "properties": {"k": {"type": "integer"}, "t": {"type": ["boolean", "null"]}},
        },
        "a": {
            "type": ["array", "null"],
            "items": {"type": "object", "properties": {"n": {"type": "number"}}},
        },
        "tags": {"type": "array", "items": {"type": "string"}},
    },
}
ODD_VALUES = [*VALUES, 1.0, Decimal("1.5"), 10**30, {"k": 1.0}, {"k": "x"}, [{"n": "1"}], ["t"]]


def _wide_records() -> list[dict[str, Any]]:
    base = {f"s{i}": f"v{i}" for i in range(14)}
    out = [dict(base)]
    for value in ODD_VALUES:
        for key in ("i", "b", "o", "a", "tags", "s3", "undeclared"):
            out.append({**base, key: value})
            out.append({key: value, **base})  # another order of the keys: another signature
            out.append({**base, "o": {"k": 1, "t": value}, "a": [{"n": value}], key: value})
    return out


@pytest.mark.parametrize("schema", [*SCHEMAS, WIDE])
def test_every_drift_is_flagged(schema: dict[str, Any]) -> None:
    check = compile_record_check(schema)
    records = [*_records(), *_wide_records()]
    drifting = 0
    for _ in range(2):  # the second time from what the check remembered
        for record in records:
            flags = check(record)
            if find_drift(record, schema):
                drifting += 1
                assert flags & DRIFT, record
    assert drifting > 0


def test_a_wide_object_reports_what_each_value_raises() -> None:
    check = compile_record_check(WIDE)
    base = {f"s{i}": "v" for i in range(14)}
    assert check(base) == 0
    assert check({**base, "b": 1}) == DRIFT | CONFORM  # the SDK would turn 1 into true
    assert check({**base, "s0": 5}) == DRIFT
    assert check({**base, "o": {"k": "x"}}) == DRIFT
    assert check({**base, "a": [{"n": 1}, {"n": "1"}]}) == DRIFT
    assert check({**base, "tags": ["a", None]}) == DRIFT
    assert check({**base, "o": {"k": 1, "t": "yes"}}) == DRIFT | CONFORM
    assert check({**base, "extra": [1]}) == 0  # additionalProperties: passed through


def test_a_closed_object_flags_undeclared_keys_for_the_sdk() -> None:
    closed = copy.deepcopy(WIDE)
    closed["additionalProperties"] = False
    check = compile_record_check(closed)
    base = {f"s{i}": "v" for i in range(14)}
    assert check(base) == 0
    assert check({**base, "extra": 1}) == CONFORM


def _dicts_in(function: Any, seen: set[int]) -> list[dict[Any, Any]]:
    """The dicts a check's closures hold, followed through the functions they hold."""
    found: list[dict[Any, Any]] = []
    for cell in getattr(function, "__closure__", None) or ():
        value = cell.cell_contents
        if id(value) in seen:
            continue
        seen.add(id(value))
        if isinstance(value, dict):
            found.append(value)
        elif callable(value):
            found += _dicts_in(value, seen)
    return found


def test_what_is_remembered_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checks, "MAX_REMEMBERED", 4)
    closed = copy.deepcopy(WIDE)
    closed["additionalProperties"] = False
    check = compile_record_check(closed)
    base = {f"s{i}": "v" for i in range(14)}
    for i in range(50):  # a new undeclared key in every record: each one looked at closely
        assert check({**base, f"new{i}": i}) == CONFORM
    exact = check.__globals__["exact"]  # the generated function's exact checks
    remembered = [d for d in _dicts_in(exact, set()) if d and isinstance(next(iter(d)), tuple)]
    assert remembered
    assert all(len(memory) <= 4 for memory in remembered)


def test_property_names_are_data_in_the_generated_code() -> None:
    name = "x'): pass\nimport os  #"
    schema = {"type": "object", "properties": {name: {"type": "string"}, "ok": {"type": "integer"}}}
    check = compile_record_check(schema)
    assert check({name: "v", "ok": 1}) == 0
    assert check({name: 1, "ok": 1}) == DRIFT
    assert "os" not in check.__globals__


def test_a_schema_without_properties_sends_every_record_to_the_sdk() -> None:
    assert compile_record_check({"type": "object"})({"a": 1}) == CONFORM


# --- choosing the exact decoder ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "long"),
    [
        (b"12345678901234567", True),  # the whole body
        (b" \n1234567890123456", True),
        (b"[1234567890123456]", True),
        (b'{"a": -1.23456789012345e5}', True),
        (b'{"a":1e1234567890123456}', True),
        (b'{"a":"x",\t"b":\r\n 12345678901234567890}', True),
        (b'{"a":"1234567890123456789"}', False),  # digits in a string
        (b'{"id":"5c2aaef9fe5499628122570302274de4"}', False),  # a hex id
        (b'{"a":123456789012345}', False),  # 15 digits: a double holds it exactly
        (b"[1.5,2,-3e5]", False),
    ],
)
def test_long_numbers_are_found_and_digits_in_strings_are_not(body: bytes, long: bool) -> None:
    assert has_long_number(body) is long
    if long:
        assert loads(body) == exact_loads(body)


def test_a_long_number_across_the_scan_chunks_is_found() -> None:
    for padding in range(payload._SCAN_CHUNK - 20, payload._SCAN_CHUNK + 2):
        body = b"[" + b" " * padding + b"12345678901234567]"
        assert has_long_number(body), padding
    assert not has_long_number(b"[" + b'"1234567890123456789",' * 100_000 + b"1]")
