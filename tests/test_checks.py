"""The fast path's page checks never miss: drift, records the SDK would change, long numbers.

The conformance half is checked against the SDK itself in test_fastpath.py; here the
drift half against ``find_drift``, both through the generated function and the exact
checks it hands records to, and the memory they keep.
"""

from __future__ import annotations

import copy
import json
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tap_generic_rest.http import body as payload
from tap_generic_rest.http.body import exact_loads, has_long_number, loads
from tap_generic_rest.records import checks
from tap_generic_rest.records.checks import CONFORM, DRIFT, compile_page_check, compile_record_check
from tap_generic_rest.records.drift import find_drift
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
    monkeypatch.setattr(checks.rules, "MAX_REMEMBERED", 4)
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


# --- the page check ---------------------------------------------------------------------------

REPO_SCHEMAS = sorted(Path(__file__).resolve().parent.parent.glob("schemas/*/*.json"))
CLOSED: dict[str, Any] = {**WIDE, "additionalProperties": False}
PAGE_SCHEMAS: list[dict[str, Any]] = [
    *SCHEMAS,
    WIDE,
    CLOSED,
    *(json.loads(path.read_text()) for path in REPO_SCHEMAS),
]


def _anything(rng: random.Random, depth: int) -> Any:
    """A JSON value of any class (Decimal as the exact decoder gives), nested a little."""
    kind = rng.randrange(10 if depth < 2 else 8)
    if kind < 7:
        return [None, True, False, rng.randint(-3, 3), rng.random(), "s", Decimal("1.5")][kind]
    if kind == 7:
        return rng.choice([0, 1, -0.0, "", "0", 10**20])
    if kind == 8:
        return [_anything(rng, depth + 1) for _ in range(rng.randrange(3))]
    return {rng.choice("abnot"): _anything(rng, depth + 1) for _ in range(rng.randrange(3))}


def _fitting(schema: Any, rng: random.Random, noise: float, depth: int = 0) -> Any:
    """A value mostly as ``schema`` says; with probability ``noise`` at each step, anything:
    another class, a missing or undeclared key, an object for a string."""
    if not isinstance(schema, dict) or rng.random() < noise or depth > 6:
        return _anything(rng, depth)
    types = schema.get("type", [])
    kind = rng.choice(types if isinstance(types, list) else [types]) if types else None
    if kind == "object" or (kind is None and "properties" in schema):
        properties = schema.get("properties") or {}
        found = {
            name: _fitting(sub, rng, noise, depth + 1)
            for name, sub in properties.items()
            if rng.random() < 0.8
        }
        if rng.random() < noise:
            found[rng.choice(["extra", "_sandbox_extra", "a"])] = _anything(rng, depth + 1)
        if rng.random() < 0.2:  # another order of the keys
            keys = list(found)
            rng.shuffle(keys)
            found = {key: found[key] for key in keys}
        return found
    if kind == "array":
        return [
            _fitting(schema.get("items"), rng, noise, depth + 1) for _ in range(rng.randrange(3))
        ]
    examples = {
        "null": None,
        "boolean": rng.random() < 0.5,
        "integer": rng.randint(-(10**6), 10**6),
        "number": rng.choice([rng.random(), rng.randint(0, 9)]),
        "string": rng.choice(["", "x", "2024-01-01T00:00:00Z"]),
    }
    return examples.get(kind, _anything(rng, depth)) if kind else _anything(rng, depth)


def _page(schema: dict[str, Any], rng: random.Random, noise: float) -> list[dict[str, Any]]:
    """A page of records: objects (the caller checks that first), of a few key layouts."""
    records = (_fitting(schema, rng, noise) for _ in range(rng.randrange(1, 12)))
    return [record if isinstance(record, dict) else {"a": record} for record in records]


@pytest.mark.parametrize("schema", PAGE_SCHEMAS)
def test_the_page_check_says_true_exactly_when_every_record_needs_nothing(
    schema: dict[str, Any],
) -> None:
    """Never True with a record the record check flags; True for a page of quiet records."""
    rng = random.Random(17)
    check = compile_record_check(schema)
    page_check = compile_page_check(schema)
    seen = set()
    for round_ in range(150):
        noise = (0.0, 0.002, 0.02, 0.1)[round_ % 4]
        page = _page(schema, rng, noise)
        quiet = all(check(record) == 0 for record in page)
        answer = page_check(page)
        if answer:
            assert quiet, page  # the fast path would have skipped a flagged record
        if quiet:
            assert answer, page  # the fast path is taken whenever it could be
        seen.add(answer)
    assert seen == {True, False} or "properties" not in schema


def test_the_page_check_is_taken_on_pages_of_real_schemas() -> None:
    rng = random.Random(3)
    for path in REPO_SCHEMAS:
        schema = json.loads(path.read_text())
        check = compile_record_check(schema)
        quiet = [r for r in (_fitting(schema, rng, 0.0) for _ in range(200)) if check(r) == 0]
        assert len(quiet) > 100, path
        assert compile_page_check(schema)(quiet) is True, path


def _contact(rng: random.Random, i: int) -> dict[str, Any]:
    """A rich helpdesk contact: lists of references, nested objects, nulls."""
    contact: dict[str, Any] = {
        "id": f"c{i}",
        "type": "contact",
        "email": None if i % 3 else f"u{i}@example.com",
        "owner_id": i,
        "unsubscribed_from_emails": i % 2 == 0,
        "location": {"type": "location", "country": "Brazil", "city": None},
        "companies": {
            "type": "list",
            "data": [{"type": "company", "id": f"f{j}", "url": "/c"} for j in range(i % 3)],
            "total_count": i % 3,
            "has_more": False,
        },
        "custom_attributes": {"plan": "pro"} if i % 2 else {},
    }
    if rng.random() < 0.1:
        contact["_sandbox_extra"] = [1, {"x": None}]
    return contact


def test_one_drifting_value_deep_inside_a_page_is_found() -> None:
    schema = json.loads(
        Path(__file__)
        .resolve()
        .parent.parent.joinpath("schemas/helpdesk/contacts.json")
        .read_text()
    )
    check = compile_record_check(schema)
    page_check = compile_page_check(schema)
    rng = random.Random(5)
    page = [_contact(rng, i) for i in range(500)]
    assert all(check(record) == 0 for record in page)
    assert page_check(page) is True
    for path, value in [
        (("companies", "data", 1, "id"), 5),  # a number for a string id in a list item
        (("companies", "data", 0, "type"), {"a": 1}),
        (("location", "country"), ["Brazil"]),
        (("companies", "total_count"), "2"),
        (("unsubscribed_from_emails",), 1),  # drift, and the SDK would change it
        (("owner_id",), 1.5),
    ]:
        drifting = copy.deepcopy(page)
        target: Any = drifting[302 if path[0] != "companies" else 305]
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
        assert check(drifting[302]) or check(drifting[305]), path
        assert page_check(drifting) is False, path


def test_pages_of_other_things_than_objects_go_record_by_record() -> None:
    page_check = compile_page_check(WIDE)
    assert page_check([]) is True
    assert page_check([{"s0": "v"}, ["s0"]]) is False
    assert page_check([{"s0": "v"}, None]) is False
    assert page_check(iter([{"s0": "v"}])) is True
    assert compile_page_check({"type": "object"})([{"a": 1}]) is False


def test_the_page_checks_memory_of_key_layouts_stays_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(checks.pages, "MAX_LAYOUTS", 4)
    page_check = compile_page_check(WIDE)
    base = {f"s{i}": "v" for i in range(14)}
    for i in range(50):  # a new undeclared key in every page: a new layout each time
        assert page_check([{**base, f"new{i}": i}, {**base, f"new{i}": None}]) is True
    objects = page_check.__closure__[0].cell_contents.__self__  # type: ignore[index]
    assert 0 < len(objects.layouts) <= 4


@pytest.mark.parametrize("nested", [False, True])
def test_keys_other_than_the_first_objects_are_looked_at(nested: bool) -> None:
    """Objects are read by the first one's keys: any other key still counts."""
    closed = {"n": {"type": "number"}}
    opened = {
        "properties": {"a": {"type": "string"}, "n": {"type": "integer"}},
        "additionalProperties": True,
    }
    cases: list[tuple[dict[str, Any], list[dict[str, Any]]]] = [
        ({"properties": closed, "additionalProperties": False}, [{"n": 1}, {"n": 2, "x": 1}]),
        (opened, [{"a": "x", "u": 1}, {"a": "y", "n": "drift"}]),  # as many keys
        (opened, [{"a": "x"}, {"a": "y", "n": "drift"}]),
        (opened, [{"a": "x", "n": 1}, {"n": 2, "a": 5}]),  # another order
    ]
    for properties, records in cases:
        schema: dict[str, Any] = {"type": "object", **properties}
        page = records
        if nested:
            schema = {"type": "object", "properties": {"o": schema}}
            page = [{"o": record} for record in records]
        check = compile_record_check(schema)
        assert check(page[0]) == 0
        assert check(page[1]) != 0
        assert compile_page_check(schema)(page) is False, page
        assert compile_page_check(schema)(page[:1]) is True
