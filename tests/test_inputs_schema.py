"""The quick check of catalog schemas: it passes a schema only when jsonschema would.

``plainly_valid`` lets the usual catalog skip the meta-schema validation at start-up;
a schema it is not sure about still goes to jsonschema, so the messages are unchanged.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator, SchemaError

from tap_generic_rest.inputs import DRAFT7_KEYWORDS, _schema_problem, plainly_valid

SCHEMAS = sorted((Path(__file__).parent.parent / "schemas").rglob("*.json"))


def _jsonschema_accepts(schema: Any) -> bool:
    try:
        Draft7Validator.check_schema(schema)
    except SchemaError:
        return False
    return True


def test_keywords_are_those_of_the_meta_schema() -> None:
    assert set(Draft7Validator.META_SCHEMA["properties"]) == DRAFT7_KEYWORDS


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_shipped_schemas_take_the_quick_path(path: Path) -> None:
    schema = json.loads(path.read_text())
    assert plainly_valid(schema)
    assert _jsonschema_accepts(schema)


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "strin"},
        {"type": []},
        {"type": ["string", "string"]},
        {"type": 3},
        {"required": ["a", "a"]},
        {"required": "a"},
        {"properties": {"a": 3}},
        {"properties": []},
        {"items": []},
        {"items": [{"type": "nope"}]},
        {"anyOf": []},
        {"anyOf": [{"type": "string"}, "x"]},
        {"minLength": -1},
        {"maxItems": True},
        {"multipleOf": 0},
        {"minimum": True},
        {"description": 1},
        {"enum": "a"},
        {"additionalProperties": {"properties": {"b": {"type": "x"}}}},
        {"$schema": 5},
    ],
    ids=repr,
)
def test_invalid_schemas_go_to_jsonschema(schema: dict[str, Any]) -> None:
    assert not plainly_valid(schema)
    assert not _jsonschema_accepts(schema)
    assert _schema_problem(schema) is not None


@pytest.mark.parametrize(
    "schema",
    [{"pattern": "["}, {"$ref": "#/nowhere"}, {"$id": 3}, {"patternProperties": {"[": {}}}],
    ids=repr,
)
def test_keywords_it_does_not_know_are_left_to_jsonschema(schema: dict[str, Any]) -> None:
    assert not plainly_valid(schema)


def test_other_keywords_are_not_checked_as_jsonschema_does_not() -> None:
    schema = {"type": "object", "x-anything": {"type": 3}, "inclusion": "available"}
    assert plainly_valid(schema)
    assert _jsonschema_accepts(schema)


_VALUES: list[Any] = [
    *("string", "integer", "object", "array", "null", "number", "boolean", "nope"),
    *(0, 1, -1, 2.5, 0.0, True, False, None, "", "x"),
    *([], ["a"], ["a", "a"], ["string", "null"], ["string", "string"], [1], {}),
    "http://json-schema.org/draft-07/schema#",
    "not a uri",
]


def _random_schema(rng: random.Random, depth: int) -> Any:
    """A schema of draft-07 keywords (and one other), valid or not."""
    if depth > 3 or rng.random() < 0.1:
        return rng.choice([True, False, {}, 3, "x", []])
    schema: dict[str, Any] = {}
    for keyword in rng.sample(sorted(DRAFT7_KEYWORDS | {"x-other"}), rng.randint(0, 4)):
        roll = rng.random()
        if roll < 0.3:
            schema[keyword] = _random_schema(rng, depth + 1)
        elif roll < 0.45:
            schema[keyword] = [_random_schema(rng, depth + 1) for _ in range(rng.randint(0, 2))]
        elif roll < 0.6:
            schema[keyword] = {f"p{i}": _random_schema(rng, depth + 1) for i in range(2)}
        else:
            schema[keyword] = rng.choice(_VALUES)
    return schema


def test_it_never_passes_a_schema_jsonschema_refuses() -> None:
    rng = random.Random(17)
    passed = refused = 0
    for _ in range(4000):
        schema = _random_schema(rng, 0)
        if plainly_valid(schema):
            passed += 1
            assert _jsonschema_accepts(schema), schema
        elif not _jsonschema_accepts(schema):
            refused += 1
    assert passed > 100  # the quick path was taken, and
    assert refused > 100  # schemas jsonschema refuses were generated
