"""Reading specs (never executing them), the template interpreter, and schema inference."""

from __future__ import annotations

from pathlib import Path

import pytest

from tap_generic_rest.errors import ConfigError
from tap_generic_rest.spec.reading.loader import Reference, load_spec, python_spec, reference_in
from tap_generic_rest.spec.schema import infer_schema
from tap_generic_rest.spec.template import compile_template

SPECS = Path(__file__).resolve().parent.parent / "examples" / "specs"


# --- references ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('dlt.secrets["api_key"]', Reference("api_key", secret=True)),
        ("dlt.secrets['api_key']", Reference("api_key", secret=True)),
        (' dlt.config["team"] ', Reference("team", secret=False)),
        ("dlt.secrets[\"a']", None),  # mismatched quotes
        ("secrets['x']", None),
        ("see dlt.secrets['x']", None),  # only a whole value is a reference
    ],
)
def test_references(text, expected):
    assert reference_in(text) == expected


def test_references_are_found_at_any_depth_of_an_inline_spec():
    loaded = load_spec({"client": {"headers": {"X": "dlt.config['x']"}}, "resources": ["a"]})
    assert loaded.data["client"]["headers"]["X"] == Reference("x", secret=False)
    assert loaded.directory is None


# --- Python files --------------------------------------------------------------------------


def test_a_rest_api_source_call_gives_its_argument_with_references():
    text = (
        '"""Docstring."""\nimport dlt\nfrom dlt.sources.rest_api import rest_api_source\n\n'
        "source = rest_api_source({'client': {'auth': {'token': dlt.secrets[\"t\"]}}, "
        "'resources': ['a', ('b',)], 'n': -3, 'ok': True, 'none': None})\n"
    )
    assert python_spec(text, "f") == {
        "client": {"auth": {"token": Reference("t", secret=True)}},
        "resources": ["a", ["b"]],
        "n": -3,
        "ok": True,
        "none": None,
    }


def test_a_dict_assigned_to_a_name_is_a_spec():
    assert python_spec("config = {'resources': ['a']}\n", "f") == {"resources": ["a"]}


def test_a_dict_passed_by_name_to_rest_api_source_is_one_spec():
    text = "config = {'resources': ['a']}\nsource = rest_api_source(config)\n"
    assert python_spec(text, "f") == {"resources": ["a"]}
    other = "config = {'resources': ['a']}\nsource = rest_api_source(other)\n"
    with pytest.raises(ConfigError, match="line 2: the name 'other'"):
        python_spec(other, "f")


def test_a_bare_rest_api_source_call_is_a_spec():
    assert python_spec("rest_api_source({'resources': ['a']})\n", "f") == {"resources": ["a"]}


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("x = {'a': open('/etc/passwd').read()}\n", "line 1: a function call"),
        ("x = {'a': f'{1}'}\n", "a JoinedStr expression"),
        ("x = {'a': 1 + 2}\n", "a BinOp expression"),
        ("x = {**other}\n", "a ** unpacking"),
        ("x = {'a': dlt.env['k']}\n", "a Subscript expression"),
        ("rest_api_source({'a': 1}, extra=1)\n", "rest_api_source takes one dict"),
        ("x = {'a': 1}\ny = {'b': 2}\n", "more than one spec (lines 1 and 2)"),
        ("while True:\n    pass\n", "a While statement"),
        ("x = [1, 2]\n", "a List expression"),
    ],
)
def test_anything_but_literals_is_refused_with_its_line(text, fragment):
    with pytest.raises(ConfigError) as error:
        python_spec(text, "spec file s.py")
    assert fragment in str(error.value)
    assert str(error.value).startswith("spec file s.py: ")


def test_the_seed_files_are_read_without_importing_dlt():
    for path in sorted(SPECS.glob("*.py")):
        loaded = load_spec(str(path))
        assert loaded.name == path.stem
        assert loaded.data["client"]["base_url"] == "https://api.example.com" or path.stem == "chat"
        assert loaded.data["resources"]


# --- templates -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "body", "expected"),
    [
        ('{{ response.get("paging", {}).get("next", {}) }}', {"paging": {"next": "u"}}, "u"),
        ('{{ response.get("paging", {}).get("next", {}) }}', {}, {}),
        ('{{ not response.get("paging", {}).get("next", {}) }}', {"paging": {}}, True),
        ('{{ not response.get("paging", {}).get("next", {}) }}', {"paging": {"next": "u"}}, False),
        ("{{response['meta']['cursor']}}", {"meta": {"cursor": 7}}, 7),
        ("{{ response['items'][-1]['id'] }}", {"items": [{"id": 1}, {"id": 2}]}, 2),
        ("{{ response['items'][5] }}", {"items": []}, None),
        ("{{ response.get('a').get('b') }}", {"a": "not a dict"}, None),
        ("{{ response }}", [1], [1]),
        ("{{ not not response.get('x', 0) }}", {"x": 3}, True),
    ],
)
def test_templates(template, body, expected):
    assert compile_template(template, "k").evaluate(body) == expected


@pytest.mark.parametrize(
    ("template", "fragment"),
    [
        ("{{ __import__('os').system('x') }}", "a call other than .get"),
        ("{{ response.__class__ }}", "a Attribute expression"),
        ("{{ open('x') }}", "a call other than .get"),
        ("{{ response.get(response) }}", "where a literal belongs"),
        ("{{ lambda: 1 }}", "a Lambda expression"),
        ("{{ response.get( }}", "not a valid expression"),
        ("response.get('x')", "expected a template"),
    ],
)
def test_templates_outside_the_small_language_are_refused(template, fragment):
    with pytest.raises(ConfigError) as error:
        compile_template(template, "spec: resource 'r': endpoint.paginator.cursor_value")
    assert fragment in str(error.value)
    assert "resource 'r'" in str(error.value)


# --- schema inference ----------------------------------------------------------------------


def test_inferred_types_widen_across_records_and_are_nullable():
    schema = infer_schema(
        [
            {"id": 1, "score": 1, "tags": ["a"], "at": "2024-01-02T03:04:05Z", "o": {"x": 1}},
            {"id": 2, "score": 2.5, "tags": [], "at": "2024-01-02T03:04:05.123+02:00", "o": None},
            {"id": 3, "score": None, "mixed": "s", "only_null": None},
            {"id": 4, "mixed": 5, "at": None, "flag": False},
        ]
    )
    props = schema["properties"]
    assert schema["additionalProperties"] is True
    assert props["id"] == {"type": ["null", "integer"]}
    assert props["score"] == {"type": ["null", "number"]}
    assert props["tags"] == {"type": ["null", "array"], "items": {"type": ["null", "string"]}}
    assert props["at"] == {"type": ["null", "string"], "format": "date-time"}
    assert props["o"] == {
        "type": ["null", "object"],
        "properties": {"x": {"type": ["null", "integer"]}},
        "additionalProperties": True,
    }
    assert props["mixed"] == {"type": ["null", "integer", "string"]}
    assert props["flag"] == {"type": ["null", "boolean"]}
    assert "only_null" not in props  # type unknown: passed through as an undeclared field


def test_strings_that_are_not_all_date_times_are_plain_strings():
    schema = infer_schema([{"at": "2024-01-02T03:04:05Z"}, {"at": "yesterday"}])
    assert schema["properties"]["at"] == {"type": ["null", "string"]}


def test_an_empty_page_infers_an_open_schema():
    assert infer_schema([]) == {"type": "object", "properties": {}, "additionalProperties": True}
