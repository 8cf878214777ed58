"""The fast record path (tap_generic_rest/emit.py) writes what the SDK's own path writes.

Every test syncs the same data twice: once as the tap runs (the fast path), once with
the SDK's stock message writer, which sends every record down the SDK's path
(``_generate_record_messages``: pruning, conformance, ``RecordMessage``, simplejson).
The two outputs must hold the same messages in the same order, records equal value
for value and type for type (``1`` is not ``1.0`` nor ``true``), and valid Singer.
"""

from __future__ import annotations

import copy
import datetime
import decimal
import io
import json
import math
from contextlib import redirect_stdout
from typing import TYPE_CHECKING, Any

import orjson
import pytest
from jsonschema import Draft7Validator
from singer_sdk.exceptions import FatalAPIError
from singer_sdk.helpers._typing import conform_record_data_types
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.singerlib import SchemaMessage, StateMessage
from singer_sdk.singerlib.encoding import SimpleSingerWriter
from singer_sdk.singerlib.json import serialize_json

from sandbox import Sandbox
from tap_generic_rest.records.checks import CONFORM, DRIFT, compile_record_check
from tap_generic_rest.records.writer import (
    ExtractionClock,
    FastSingerWriter,
    compile_prune_tree,
    escape_line_separators,
    gc_tuned_for_streaming,
    has_line_separators,
    prune,
)
from tap_generic_rest.sources import all_sources
from tap_generic_rest.sources.helpdesk import CompaniesStream
from tap_generic_rest.tap import TapGenericRest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from requests_mock import Mocker

BASE = "https://helpdesk.example.com"
HELPDESK = {
    "source": "helpdesk",
    "base_url": BASE,
    "api_key": "key-0",
    "max_concurrent_requests": 1,
}
SDK_PATH = "the tap's message writer is not the fast writer"


# --- running both paths -------------------------------------------------------------------------


class Sync:
    """The output of one in-process sync, and the tap that wrote it."""

    def __init__(self, tap: TapGenericRest, text: str) -> None:
        self.tap = tap
        self.lines = text.splitlines()
        self.messages = [json.loads(line, parse_constant=_no_constants) for line in self.lines]

    def records(self, stream: str) -> list[dict[str, Any]]:
        return [
            m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream
        ]

    def emitter(self, stream: str) -> Any:
        return self.tap.streams[stream].record_emitter


def _no_constants(name: str) -> None:
    raise AssertionError(f"{name} is not JSON")


def sync(
    config: dict[str, Any],
    catalog: dict[str, Any] | None = None,
    *,
    fast: bool,
    binary: bool = False,
) -> Sync:
    """Sync in-process; ``fast=False`` uses the SDK's stock writer (and so the SDK's path).

    ``binary`` gives stdout a byte buffer, as a real process has, instead of a StringIO.
    """
    writer = FastSingerWriter() if fast else SimpleSingerWriter()
    raw = io.BytesIO()
    out: Any = io.TextIOWrapper(raw, encoding="utf-8", newline="\n") if binary else io.StringIO()
    with redirect_stdout(out):
        tap = TapGenericRest(config=config, catalog=catalog, message_writer=writer)
        tap.sync_all()
    out.flush()
    return Sync(tap, raw.getvalue().decode() if binary else out.getvalue())


def typed(value: Any) -> str:
    """A rendering in which 1, 1.0 and true differ, and key order counts."""
    return json.dumps(value, ensure_ascii=False)


def assert_valid_singer(messages: list[dict[str, Any]]) -> None:
    """SCHEMA before a stream's records, RECORD and STATE shapes, a STATE at the end."""
    schemas: set[str] = set()
    versions: dict[str, int] = {}
    for message in messages:
        kind = message["type"]
        assert kind in {"SCHEMA", "RECORD", "STATE", "ACTIVATE_VERSION"}, message
        if kind == "ACTIVATE_VERSION":
            assert set(message) == {"type", "stream", "version"}
            versions[message["stream"]] = message["version"]
        elif kind == "SCHEMA":
            assert set(message) >= {"stream", "schema", "key_properties"}
            schemas.add(message["stream"])
        elif kind == "RECORD":
            assert list(message) in (
                ["type", "stream", "record", "time_extracted"],
                ["type", "stream", "record", "version", "time_extracted"],
            ), list(message)
            assert message["stream"] in schemas, "RECORD before its SCHEMA"
            assert isinstance(message["record"], dict)
            assert message.get("version") == versions.get(message["stream"])
            extracted = datetime.datetime.fromisoformat(message["time_extracted"])
            assert extracted.utcoffset() == datetime.timedelta(0)
        else:
            assert set(message) == {"type", "value"}
            assert isinstance(message["value"], dict)
    assert messages
    assert messages[-1]["type"] == "STATE"


def assert_same_output(fast: Sync, slow: Sync) -> None:
    """Same messages in the same order; records equal in value and type; SCHEMA/STATE equal."""
    assert_valid_singer(fast.messages)
    assert_valid_singer(slow.messages)
    assert [(m["type"], m.get("stream")) for m in fast.messages] == [
        (m["type"], m.get("stream")) for m in slow.messages
    ]
    for mine, theirs in zip(fast.messages, slow.messages, strict=True):
        if mine["type"] == "RECORD":
            assert list(mine) == list(theirs)
            assert typed(mine["record"]) == typed(theirs["record"])
        elif mine["type"] == "ACTIVATE_VERSION":  # the version is the sync's start time
            assert mine["stream"] == theirs["stream"]
        else:
            assert mine == theirs


# --- every stream of every source, against the sandbox ------------------------------------------


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=23, default_size=30, oncall_page_size=7) as server:
        yield server


@pytest.mark.parametrize("source", sorted(all_sources()))
def test_every_stream_writes_what_the_sdk_writes(sandbox: Sandbox, source: str) -> None:
    config = sandbox.tap_config(source, page_size=8)
    fast = sync(config, fast=True)
    slow = sync(config, fast=False)
    assert_same_output(fast, slow)
    for stream in all_sources()[source].streams:
        records = fast.records(stream.name)
        assert records, f"no records in {source}.{stream.name}"
        assert typed(records) == typed(slow.records(stream.name))
        assert fast.emitter(stream.name).reason_slow == ""
        assert slow.emitter(stream.name).reason_slow == SDK_PATH


@pytest.mark.parametrize("chunk_size", [1, 300, FastSingerWriter.chunk_size])
def test_records_written_through_stdout_buffer_keep_their_order(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, chunk_size: int
) -> None:
    """A real stdout: RECORD lines go to its byte buffer, the SDK's messages to its text layer."""
    monkeypatch.setattr(FastSingerWriter, "chunk_size", chunk_size)
    config = sandbox.tap_config("oncall", page_size=8)
    fast = sync(config, fast=True, binary=True)
    assert_same_output(fast, sync(config, fast=False))


def test_records_before_a_failure_are_written(requests_mock: Mocker) -> None:
    """A stream that fails mid-way has written every record it read, as the SDK's path has."""
    first_page = [_contact(i) for i in range(100)]  # a full page: the next one is asked for
    config = {**HELPDESK, "max_retries": 0}
    catalog = _catalog(config, "contacts")
    outputs = []
    for fast in (True, False):
        requests_mock.get(
            f"{BASE}/v1/contacts",
            [{"json": {"data": first_page}}, {"status_code": 404, "text": "gone"}],
        )
        writer = FastSingerWriter() if fast else SimpleSingerWriter()
        out = io.StringIO()
        with redirect_stdout(out), pytest.raises(FatalAPIError):
            TapGenericRest(config=config, catalog=catalog, message_writer=writer).sync_all()
        outputs.append([json.loads(line) for line in out.getvalue().splitlines()])
    fast_messages, slow_messages = outputs
    assert [m["type"] for m in fast_messages] == [m["type"] for m in slow_messages]
    fast_records = [m["record"] for m in fast_messages if m["type"] == "RECORD"]
    assert typed(fast_records) == typed(
        [m["record"] for m in slow_messages if m["type"] == "RECORD"]
    )
    assert len(fast_records) == 100


# --- hand-made tricky records (requests-mock) ---------------------------------------------------


def _contact(i: int, **fields: Any) -> dict[str, Any]:
    return {
        "id": f"c{i}",
        "type": "contact",
        "email": f"p{i}@example.com",
        "owner_id": 400 + i,
        "created_at": 1_700_000_000 + i,
        "unsubscribed_from_emails": i % 2 == 0,
        "custom_attributes": {"plan": "pro", "seats": i},
        "location": {"type": "location", "country": "France", "city": "Lyon"},
        "tags": {"type": "list", "data": [{"type": "tag", "id": str(i)}], "has_more": False},
        **fields,
    }


TRICKY_CONTACTS = [
    _contact(0),
    # nulls everywhere a schema allows them
    {
        "id": "c1",
        **{k: None for k in ("type", "email", "name", "owner_id", "created_at")},
        "unsubscribed_from_emails": None,
        "location": None,
        "tags": None,
        "custom_attributes": None,
    },
    # unicode: accents, CJK, emoji, a line separator, escapes
    _contact(2, name='Zoë 名前 🚀 \u2028 \u2029 \x85 "q" \\ b\ts\x00\x1f', email="ü@例え.jp"),
    # numbers: a float where an integer is declared, an integer in a free-form object
    _contact(3, owner_id=1.5, created_at=-0.0, custom_attributes={"ratio": 2, "big": 2**63 - 1}),
    # strings that look like dates or numbers in string and integer fields
    _contact(4, name="2024-02-30T25:61:00Z", external_id="0042", created_at="1700000000"),
    # booleans the SDK rewrites: 0/1, a string, an object in boolean-only fields
    _contact(5, unsubscribed_from_emails=1),
    _contact(6, unsubscribed_from_emails="no"),
    _contact(7, tags={"type": "list", "data": [], "has_more": 0}),
    _contact(8, unsubscribed_from_emails=0.0),
    # undeclared fields, top level and nested, and deep nesting
    _contact(
        9,
        extra_field={"a": [1, {"b": [None, True, 1.25e-7]}]},
        location={"type": "location", "city": "Kyōto", "lat": 35.0, "extra": {"x": 1}},
        tags={"type": "list", "data": [{"id": "1", "extra": [1, 2]}, "not-an-object"]},
    ),
    # empty containers, and a list where an object is declared (and the reverse)
    _contact(10, custom_attributes={}, location=[], tags={"data": {}}),
]


def _mock_contacts(requests_mock: Mocker, records: list[dict[str, Any]]) -> None:
    requests_mock.get(f"{BASE}/v1/contacts", json={"data": records})
    # No total: the short page is confirmed by asking for the next one.
    requests_mock.get(f"{BASE}/v1/contacts?offset={len(records)}", json={"data": []})


def assert_valid_against_latest_schema(messages: list[dict[str, Any]]) -> None:
    """Every RECORD is valid against the last SCHEMA of its stream before it."""
    validators: dict[str, Draft7Validator] = {}
    for message in messages:
        if message["type"] == "SCHEMA":
            validators[message["stream"]] = Draft7Validator(message["schema"])
        elif message["type"] == "RECORD":
            errors = [
                e.message for e in validators[message["stream"]].iter_errors(message["record"])
            ]
            assert errors == [], message["record"]


def _catalog(config: dict[str, Any], stream: str) -> dict[str, Any]:
    catalog: dict[str, Any] = TapGenericRest(config=config, setup_mapper=False).catalog_dict
    for entry in catalog["streams"]:
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = entry["tap_stream_id"] == stream
    return catalog


def _entry(catalog: dict[str, Any], stream: str) -> dict[str, Any]:
    return next(e for e in catalog["streams"] if e["tap_stream_id"] == stream)


def _deselect(catalog: dict[str, Any], stream: str, *paths: tuple[str, ...]) -> None:
    metadata = _entry(catalog, stream)["metadata"]
    for path in paths:
        breadcrumb = [part for name in path for part in ("properties", name)]
        for meta in metadata:
            if meta["breadcrumb"] == breadcrumb:
                meta["metadata"]["selected"] = False
                break
        else:
            metadata.append({"breadcrumb": breadcrumb, "metadata": {"selected": False}})


def test_tricky_records_come_out_as_the_sdk_writes_them(requests_mock: Mocker) -> None:
    _mock_contacts(requests_mock, TRICKY_CONTACTS)
    catalog = _catalog(HELPDESK, "contacts")
    fast = sync(HELPDESK, catalog, fast=True)
    slow = sync(HELPDESK, catalog, fast=False)
    assert_same_output(fast, slow)
    records = fast.records("contacts")
    # Every value as the server sent it: the schema widens instead of the SDK coercing
    # (it used to turn 1, "no" and 0 in boolean fields into true, true and false).
    assert records == TRICKY_CONTACTS
    assert typed(records) == typed(TRICKY_CONTACTS)
    assert_valid_against_latest_schema(fast.messages)
    assert_valid_against_latest_schema(slow.messages)
    schemas = [m["schema"] for m in fast.messages if m["type"] == "SCHEMA"]
    assert len(schemas) == 1  # all on the first page: the first SCHEMA admits it already
    # 0.0 is a valid integer in JSON Schema: no "number" needed once "integer" is there.
    assert schemas[-1]["properties"]["unsubscribed_from_emails"]["type"] == [
        "string",
        "integer",
        "boolean",
        "null",
    ]
    emitter = fast.emitter("contacts")
    assert emitter.reason_slow == ""


def test_deselected_properties_are_removed_as_the_sdk_removes_them(requests_mock: Mocker) -> None:
    _mock_contacts(requests_mock, TRICKY_CONTACTS)
    catalog = _catalog(HELPDESK, "contacts")
    _deselect(catalog, "contacts", ("email",), ("location", "city"), ("tags",), ("notes", "url"))
    fast = sync(HELPDESK, catalog, fast=True)
    assert_same_output(fast, sync(HELPDESK, catalog, fast=False))
    for record in fast.records("contacts"):
        assert "email" not in record
        assert "tags" not in record
        if isinstance(record.get("location"), dict):
            assert "city" not in record["location"]
    schema = next(m for m in fast.messages if m["type"] == "SCHEMA")["schema"]
    assert "email" not in schema["properties"]


def test_undeclared_keys_of_a_closed_object_are_dropped_as_the_sdk_drops_them(
    requests_mock: Mocker,
) -> None:
    """additionalProperties false in the catalog's schema: the SDK drops undeclared keys."""
    _mock_contacts(requests_mock, TRICKY_CONTACTS)
    catalog = _catalog(HELPDESK, "contacts")
    schema = _entry(catalog, "contacts")["schema"]
    schema["properties"]["location"]["additionalProperties"] = False
    schema["properties"]["tags"]["properties"]["data"]["items"]["additionalProperties"] = False
    fast = sync(HELPDESK, catalog, fast=True)
    assert_same_output(fast, sync(HELPDESK, catalog, fast=False))
    record = fast.records("contacts")[9]
    assert set(record["location"]) == {"type", "city"}
    assert record["tags"]["data"][0] == {"id": "1"}


def test_values_only_the_sdk_writes_exactly_go_the_sdks_way(
    requests_mock: Mocker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Values a stream's own code could add (not JSON's) go the SDK's way, record by record."""
    requests_mock.get(
        f"{BASE}/v1/companies",
        json={"data": [{"id": str(i), "name": f"Co {i}", "monthly_spend": 10} for i in range(12)]},
    )
    requests_mock.get(f"{BASE}/v1/companies?offset=12", json={"data": []})
    aware = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    added: list[dict[str, Any]] = [
        {},
        {"monthly_spend": 12},  # an integer in a number field stays an integer
        {"founded": aware},  # undeclared datetime
        {"name": datetime.datetime(2024, 1, 2, 3, 4, 5)},  # naive datetime in a string field
        {"monthly_spend": decimal.Decimal("1.10")},
        {"monthly_spend": math.nan, "score": math.inf},
        {"size": 2**70},
        {"name": "lone \ud800 surrogate"},
        {"website": b"\x01\xff", "day": datetime.date(2024, 5, 6)},
        {"industry": type("Label", (str,), {})("a str subclass")},
        {"plan": {"id": 1, "tags": ("a", "b")}},
        {"user_count": True},
    ]
    original = CompaniesStream.post_process

    def post_process(self: Any, row: dict[str, Any], context: Any = None) -> dict[str, Any]:
        row = original(self, row, context)
        row.update(added[int(row["id"])])
        return row

    monkeypatch.setattr(CompaniesStream, "post_process", post_process)
    catalog = _catalog(HELPDESK, "companies")
    fast = sync(HELPDESK, catalog, fast=True)
    slow = sync(HELPDESK, catalog, fast=False)
    assert_same_output(fast, slow)
    records = fast.records("companies")
    assert records[1]["monthly_spend"] == 12
    assert isinstance(records[1]["monthly_spend"], int)
    assert records[2]["founded"] == "2024-01-02T03:04:05+00:00"
    assert records[3]["name"] == "2024-01-02T03:04:05.000000+00:00"
    assert records[5]["monthly_spend"] is None
    assert records[5]["score"] is None
    assert records[6]["size"] == 2**70
    # datetimes, Decimal, big int, surrogate, bytes/date, str subclass: the SDK's way
    assert fast.emitter("companies").slow_records == 7


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        ({"stream_maps": {"contacts": {"id_upper": "id.upper()"}}}, "stream maps"),
        ({"stream_maps": {"contacts": {"__alias__": "people"}}}, "stream maps"),
        ({"flattening_enabled": True, "flattening_max_depth": 1}, "flattening"),
    ],
)
def test_stream_maps_and_flattening_use_the_sdk_path(
    requests_mock: Mocker, settings: dict[str, Any], reason: str
) -> None:
    _mock_contacts(requests_mock, TRICKY_CONTACTS)
    config = {**HELPDESK, **settings}
    catalog = _catalog(config, "contacts")
    fast = sync(config, catalog, fast=True)
    assert_same_output(fast, sync(config, catalog, fast=False))
    assert reason in fast.emitter("contacts").reason_slow


def test_records_carry_the_table_version_when_activate_version_is_on(
    requests_mock: Mocker,
) -> None:
    _mock_contacts(requests_mock, TRICKY_CONTACTS)
    config = {**HELPDESK, "emit_activate_version_messages": True}
    catalog = _catalog(config, "contacts")
    # Table versions go with full-table reads: the catalog makes the incremental stream one.
    _entry(catalog, "contacts")["replication_method"] = "FULL_TABLE"
    fast = sync(config, catalog, fast=True)
    assert_same_output(fast, sync(config, catalog, fast=False))
    assert [m["type"] for m in fast.messages[:3]] == ["SCHEMA", "ACTIVATE_VERSION", "RECORD"]
    assert all("version" in m for m in fast.messages if m["type"] == "RECORD")
    assert fast.emitter("contacts").reason_slow == ""


def test_a_lower_conformance_level_uses_the_sdk_path(
    requests_mock: Mocker, monkeypatch: pytest.MonkeyPatch
) -> None:
    _mock_contacts(requests_mock, TRICKY_CONTACTS)
    monkeypatch.setattr(
        "tap_generic_rest.sources.helpdesk.ContactsStream.TYPE_CONFORMANCE_LEVEL",
        TypeConformanceLevel.ROOT_ONLY,
    )
    catalog = _catalog(HELPDESK, "contacts")
    fast = sync(HELPDESK, catalog, fast=True)
    assert_same_output(fast, sync(HELPDESK, catalog, fast=False))
    assert "conformance level" in fast.emitter("contacts").reason_slow


# --- the pieces ---------------------------------------------------------------------------------

SCHEMAS: list[dict[str, Any]] = [
    {"type": "object", "properties": {"b": {"type": ["boolean", "null"]}}},
    {"type": "object", "properties": {"b": {"type": "boolean"}}, "additionalProperties": True},
    {"type": "object", "properties": {"n": {"type": "number"}}, "additionalProperties": False},
    {
        "type": "object",
        "additionalProperties": True,
        "properties": {
            "o": {
                "type": ["object", "null"],
                "properties": {"b": {"type": ["null", "boolean"]}},
            },
            "l": {"type": "array", "items": {"type": "boolean"}},
            "lo": {
                "type": ["array", "null"],
                "items": {"type": "object", "properties": {"b": {"type": "boolean"}}},
            },
            "x": {"anyOf": [{"type": "boolean"}, {"type": "null"}]},
        },
    },
]
VALUES: list[Any] = [None, True, False, 0, 1, 2.5, -0.0, "", "0", "yes", [], [True, 0], {}]


def _records() -> Iterator[dict[str, Any]]:
    for value in VALUES:
        for key in ("b", "n", "o", "l", "lo", "x", "undeclared"):
            yield {key: value}
            yield {key: [value, {"b": value}], "b": True}
            yield {key: {"b": value, "z": value}}
            yield {key: {"b": {"b": value}}}


@pytest.mark.parametrize("schema", SCHEMAS)
def test_the_check_never_misses_a_record_the_sdk_would_change(schema: dict[str, Any]) -> None:
    """Whenever the check passes a JSON record, the SDK's conformance leaves it as it is."""
    check = compile_record_check(schema)
    passed = 0
    for record in _records():
        if check(record) & CONFORM:
            continue
        passed += 1
        conformed = conform_record_data_types(
            "s", copy.deepcopy(record), schema, TypeConformanceLevel.RECURSIVE, _logger()
        )
        assert typed(json.loads(serialize_json(conformed))) == typed(
            json.loads(orjson.dumps(record))
        ), record
    assert passed > 0


def _logger() -> Any:
    import logging

    return logging.getLogger("test_fastpath")


def test_the_check_is_absent_where_the_sdk_never_changes_json() -> None:
    schema = {
        "type": "object",
        "additionalProperties": True,
        "properties": {
            "s": {"type": ["string", "null"], "format": "date-time"},
            "i": {"type": "integer"},
            "o": {"type": "object", "additionalProperties": True, "properties": {}},
            "a": {"type": "array", "items": {"type": "string"}},
        },
    }
    check = compile_record_check(schema)
    records = [
        {"s": "2024-01-01T00:00:00Z", "i": 1, "o": {"k": [1]}, "a": ["x"], "extra": True},
        {"s": None, "i": 2, "o": {}, "a": []},
        {},
    ]
    for _ in range(2):  # a signature seen before means the same
        assert [check(record) for record in records] == [0, 0, 0]


def test_an_object_item_schema_without_properties_sends_object_items_to_the_sdk() -> None:
    check = compile_record_check(
        {"type": "object", "properties": {"a": {"type": "array", "items": {"type": "object"}}}}
    )
    assert check({"a": [{"k": 1}]}) == CONFORM
    assert check({"a": ["text"]}) == DRIFT  # a string where the items are objects
    assert check({"a": [{"k": 2}, {"k": 3}]}) == CONFORM
    assert check({"a": []}) == 0


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("a\u2028b", True),
        ("\u2029", True),
        ("x\x85", True),
        ("…✅€—é Å ą ©°·\xa0 名前 🚀", False),  # lead bytes e2 / c2, other characters
        ("plain", False),
    ],
)
def test_line_separators_inside_strings_are_escaped(text: str, found: bool) -> None:
    line = orjson.dumps({f"k{text}": text, "n": "\n"}) + b"\n"
    assert has_line_separators(line) is found
    escaped = escape_line_separators(line)
    assert len(escaped.decode().splitlines()) == 1
    assert not has_line_separators(escaped)
    assert json.loads(escaped) == json.loads(line)


def test_prune_tree_and_prune_follow_the_mask() -> None:
    mask = {
        (): True,
        ("properties", "a"): False,
        ("properties", "a", "properties", "x"): False,
        ("properties", "o"): True,
        ("properties", "o", "properties", "x"): False,
        ("properties", "o", "properties", "y"): True,
        ("properties", "k"): True,
    }
    tree = compile_prune_tree(mask)
    assert tree == {"a": None, "o": {"x": None}}
    record = {"a": 1, "o": {"x": 1, "y": 2}, "k": [{"x": 1}], "u": {"x": 1}}
    prune(record, tree)
    assert record == {"o": {"y": 2}, "k": [{"x": 1}], "u": {"x": 1}}
    assert compile_prune_tree({(): True, ("properties", "a"): True}) == {}


def test_writer_keeps_record_lines_before_the_next_message() -> None:
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8", newline="\n")
    writer = FastSingerWriter()
    with redirect_stdout(out):
        writer.write_message(SchemaMessage("s", {"type": "object", "properties": {}}, []))
        writer.write_line(b'{"type":"RECORD","stream":"s","record":{"a":"\xc3\xa9"}}\n')
        writer.write_message(StateMessage({"bookmarks": {}}))
    lines = raw.getvalue().decode().splitlines()
    assert [json.loads(line)["type"] for line in lines] == ["SCHEMA", "RECORD", "STATE"]
    assert json.loads(lines[1])["record"] == {"a": "é"}


def test_extraction_clock_formats_like_the_sdk() -> None:
    clock = ExtractionClock()
    text = clock.now()
    parsed = datetime.datetime.fromisoformat(text)
    assert parsed.tzinfo is not None
    assert text == parsed.isoformat(sep="T")
    assert abs((datetime.datetime.now(datetime.timezone.utc) - parsed).total_seconds()) < 5


def test_gc_tuning_is_undone_after_the_stream() -> None:
    import gc

    before = gc.get_threshold()
    with gc_tuned_for_streaming():
        assert gc.get_threshold()[0] >= 100_000
        with gc_tuned_for_streaming():  # nested (a child stream): left as it is
            pass
        assert gc.get_threshold()[0] >= 100_000
    assert gc.get_threshold() == before
