"""The probe's record findings: undeclared fields, type drift (the drift check), key range."""

from __future__ import annotations

from decimal import Decimal

from tap_generic_rest.probe.findings import (
    EXAMPLE_CHARS,
    RecordFindings,
    Undeclared,
    example,
    undeclared,
    value_at,
)
from tap_generic_rest.records.drift import Drift
from tap_generic_rest.redact import REDACTOR

SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "count": {"type": ["integer", "null"]},
        "score": {"type": "number"},
        "author": {
            "type": ["object", "null"],
            "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
        },
        "tags": {"type": "array", "items": {"type": "string"}},
        "emails": {
            "type": "array",
            "items": {"type": "object", "properties": {"address": {"type": "string"}}},
        },
        "custom": {"type": "object"},
        "updated": {"type": ["string", "null"]},
    },
}


def test_undeclared_fields_at_any_depth_but_not_inside_free_maps():
    record = {
        "id": "7",
        "new": 1.5,
        "author": {"id": 1, "email": "a@b"},
        "emails": [{"address": "x", "primary": True}],
        "custom": {"free": "form"},
    }
    assert list(undeclared(record, SCHEMA)) == [
        Undeclared("new", "number"),
        Undeclared("author.email", "string"),
        Undeclared("emails[].primary", "boolean"),
    ]


def test_value_at_follows_the_drifts_path_into_lists():
    record = {"tags": ["a", 1, "b"], "author": {"id": "42"}}
    assert value_at(record, Drift(("tags", "[]"), ("string",), "integer")) == 1
    assert value_at(record, Drift(("author", "id"), ("integer",), "string")) == "42"


def test_findings_count_records_with_drift_and_show_one_example():
    found = RecordFindings(schema=SCHEMA, primary_keys=("id",))
    records = [
        {"id": "1", "author": {"id": "42", "name": "Ann"}, "tags": ["a", 1, 2]},
        {"id": 2, "score": 3, "count": None},  # an integer is a number
        {"id": 3, "tags": [5]},
        {"id": "4", "emails": [{"address": None}]},
    ]
    for record in records:
        found.add(record)
    drift = {key: (d.declared, d.count, d.example) for key, d in found.drift.items()}
    assert drift == {
        ("author.id", "string"): (("integer",), 1, '"42"'),
        ("tags[]", "integer"): (("string",), 2, "1"),  # records, not values
        ("id", "integer"): (("string",), 2, "2"),
        ("emails[].address", "null"): (("string",), 1, "null"),
    }
    assert found.has_drift
    assert found.records == 4


def test_the_sample_is_compared_with_the_schema_as_declared():
    """The stream widens its schema on drift; the findings keep their own copy."""
    schema = {"properties": {"id": {"type": "string"}}}
    found = RecordFindings(schema=schema, primary_keys=("id",))
    schema["properties"]["id"]["type"] = ["string", "integer"]  # what a sync's admit() does
    found.add({"id": 1})
    assert list(found.drift) == [("id", "integer")]


def test_a_clean_sample_has_no_drift():
    found = RecordFindings(schema=SCHEMA, primary_keys=("id",))
    found.add({"id": "1", "count": 3, "custom": {"x": [1]}, "author": None, "tags": []})
    assert not found.has_drift


def test_the_replication_key_range_is_kept_by_type():
    found = RecordFindings(schema=SCHEMA, primary_keys=("id",), replication_key="updated")
    for value in ("2024-03-01", "2024-01-01", None, "2024-02-01"):
        found.add({"id": "1", "updated": value})
    assert (found.replication_min, found.replication_max) == ("2024-01-01", "2024-03-01")
    found.add({"id": "1", "updated": 17})  # another type: drift, and the range restarts
    assert (found.replication_min, found.replication_max) == (17, 17)


def test_examples_are_masked_before_they_are_cut():
    REDACTOR.add("s3cr3t-value")
    for offset in range(EXAMPLE_CHARS - 14, EXAMPLE_CHARS + 2):
        shown = example("x" * offset + "s3cr3t-value")
        assert "s3cr" not in shown
        assert len(shown) <= EXAMPLE_CHARS


def test_examples_of_values_only_the_exact_decoder_makes():
    assert example(18446744073709551617) == "18446744073709551617"
    assert example(Decimal("3.14159265358979323846")) == "3.14159265358979323846"
    assert example("\udc00") == '"\\udc00"'
