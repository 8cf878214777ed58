"""The fast record path (records/fast_path.py) writes the records today's path writes.

Every source and every spec is synced twice against the same sandbox: as the tap runs (pages
the typed check vouches for written as the server's bytes) and with the fast record path
turned off (every page decoded, checked and encoded again). The outputs must hold the same
messages in the same order, records equal as parsed JSON values (numbers read as Decimal,
so ``1`` is not ``1.0``), STATE and SCHEMA messages equal; with odd JSON (integers past 64
bits, long decimals, lone surrogates, byte order marks), drift and undeclared fields. A page
the typed check cannot vouch for goes today's way whole, which a server that spaces its
JSON shows record by record: the fast path keeps the server's spacing, today's does not.
"""

from __future__ import annotations

import json
import logging
import random
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import pytest

from sandbox import Sandbox
from tap_generic_rest.http.body import loads
from tap_generic_rest.records import fast_path
from tap_generic_rest.records.checks import compile_record_check
from tap_generic_rest.records.typed import CannotTypeError, record_type
from tap_generic_rest.sources import all_sources
from tests.hostile import Handler, HostileServer
from tests.test_fastpath import Sync, sync

if TYPE_CHECKING:
    from collections.abc import Iterator

#: Fetching ahead as configured, whatever the pace (see tests/test_pace.py).
pytestmark = pytest.mark.usefixtures("pages_ahead_as_configured")

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "examples" / "specs"
SOURCES = sorted(all_sources())


@pytest.fixture
def pages(monkeypatch: pytest.MonkeyPatch) -> Counter[tuple[str, bool]]:
    """Pages taken per (stream, split by the fast path)."""
    seen: Counter[tuple[str, bool]] = Counter()
    took = fast_path.RawRecords.took

    def counting(self: fast_path.RawRecords, split: fast_path.Split | None) -> None:
        seen[self.stream.name, split is not None] += 1
        took(self, split)

    monkeypatch.setattr(fast_path.RawRecords, "took", counting)
    return seen


def without_fast_path(config: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Sync:
    """The sync with the fast record path turned off: today's path for every page."""
    with monkeypatch.context() as patch:
        patch.setattr(fast_path, "obstacle", lambda stream: "turned off by the test")
        return sync(config, fast=True)


def exact(line: str) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(line, parse_float=Decimal)
    return message


def assert_same_records(fast: Sync, today: Sync) -> None:
    """Same messages in order; records equal as parsed JSON; SCHEMA and STATE equal."""
    mine = [exact(line) for line in fast.lines]
    theirs = [exact(line) for line in today.lines]
    assert [(m["type"], m.get("stream")) for m in mine] == [
        (m["type"], m.get("stream")) for m in theirs
    ]
    for one, other in zip(mine, theirs, strict=True):
        if one["type"] == "RECORD":
            assert list(one) == list(other)
            assert one["record"] == other["record"]
            assert _typed(one["record"]) == _typed(other["record"])
        elif one["type"] == "STATE":  # the signpost is the time the run started
            assert _unsigned(one) == _unsigned(other)
        elif one["type"] != "ACTIVATE_VERSION":
            assert one == other


def _unsigned(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _unsigned(v) for k, v in value.items() if k != "replication_key_signpost"}
    return value


def _typed(value: Any) -> Any:
    """Values with their JSON kinds (``1`` and ``1.0`` and ``true`` differ), keys sorted."""
    if isinstance(value, dict):
        return {key: _typed(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_typed(item) for item in value]
    return (type(value).__name__, value)


@pytest.fixture(scope="module")
def odd_sandbox() -> Iterator[Sandbox]:
    """Odd JSON on every third record, drift on every fourth, undeclared fields."""
    with Sandbox(seed=11, default_size=40, tricky_values=True, drift=True) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def plain_sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=12, default_size=40, oncall_page_size=6) as sandbox:
        yield sandbox


def spec_config(sandbox: Sandbox, source: str, **extra: Any) -> dict[str, Any]:
    config = sandbox.tap_config(source, **extra)
    del config["source"]
    return {**config, "spec": str(SPECS / f"{source}.py")}


@pytest.mark.parametrize("workers", [1, 4], ids=["sequential", "prefetch"])
@pytest.mark.parametrize("kind", ["built-in", "spec"])
@pytest.mark.parametrize("source", SOURCES)
def test_the_fast_path_writes_todays_records(
    plain_sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    pages: Counter[tuple[str, bool]],
    source: str,
    kind: str,
    workers: int,
) -> None:
    settings = {"page_size": 7, "max_concurrent_requests": workers}
    if kind == "built-in":
        config = plain_sandbox.tap_config(source, **settings)
    else:
        config = spec_config(plain_sandbox, source, **settings)
    fast = sync(config, fast=True)
    split = sum(count for (_, was_split), count in pages.items() if was_split)
    assert_same_records(fast, without_fast_path(config, monkeypatch))
    assert split, "no page went the fast way"


@pytest.fixture(scope="module")
def bare_sandbox() -> Iterator[Sandbox]:
    """Statuspage and Jira's application roles as the real APIs send them: bare arrays."""
    with Sandbox(seed=13, default_size=30, bare_arrays=["statuspage", "tracker"]) as sandbox:
        yield sandbox


@pytest.mark.parametrize("kind", ["built-in", "spec"])
@pytest.mark.parametrize("source", ["statuspage", "tracker"])
def test_bare_array_bodies_give_todays_records(
    bare_sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    pages: Counter[tuple[str, bool]],
    source: str,
    kind: str,
) -> None:
    if kind == "built-in":
        config = bare_sandbox.tap_config(source, page_size=7)
    else:
        config = spec_config(bare_sandbox, source, page_size=7)
    assert_same_records(sync(config, fast=True), without_fast_path(config, monkeypatch))
    assert any(was_split for _, was_split in pages)


@pytest.mark.parametrize("source", SOURCES)
def test_odd_json_drift_and_undeclared_fields_give_todays_records(
    odd_sandbox: Sandbox,
    monkeypatch: pytest.MonkeyPatch,
    pages: Counter[tuple[str, bool]],
    source: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = odd_sandbox.tap_config(source, page_size=5, max_concurrent_requests=1)
    with caplog.at_level(logging.WARNING):
        fast = sync(config, fast=True)
    warned = sorted(r.getMessage() for r in caplog.records if "declared" in r.getMessage())
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        today = without_fast_path(config, monkeypatch)
    assert_same_records(fast, today)
    # Drift still widens and warns, undeclared fields still warn: once each, as today.
    assert warned == sorted(r.getMessage() for r in caplog.records if "declared" in r.getMessage())
    assert any(was_split for _, was_split in pages)
    assert any(not was_split for _, was_split in pages)


def test_the_projects_spec_gives_todays_records(
    plain_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, pages: Counter[tuple[str, bool]]
) -> None:
    """A parent and its child (decoded: the child reads the parent's records), an incremental."""
    config = {
        "spec": str(SPECS / "projects.yaml"),
        "base_url": plain_sandbox.base_url("projects"),
        **plain_sandbox.projects.credentials,
    }
    assert_same_records(sync(config, fast=True), without_fast_path(config, monkeypatch))
    assert any(was_split for _, was_split in pages)


# --- one page the check cannot vouch for: today's way, whole ------------------------------------


def _contact(number: int, **fields: Any) -> dict[str, Any]:
    return {"id": f"c{number}", "name": f"Zoë {number}", "owner_id": number, **fields}


class SpacedPages:
    """helpdesk contacts in pages of 4, written with spaces (``json.dumps``); ``odd`` per page."""

    def __init__(
        self,
        total: int,
        odd: dict[int, tuple[int, bytes]],
        bom: frozenset[int] = frozenset(),
        around: dict[int, tuple[bytes, bytes]] | None = None,
    ) -> None:
        self.total = total
        self.odd = odd  # page number -> (record position, JSON text of that record)
        self.bom = bom  # pages whose body starts with a UTF-8 byte order mark
        self.around = around or {}  # page number -> other keys before and after the records

    def __call__(self, handler: Handler) -> None:
        offset = int(handler.query.get("offset", ["0"])[0])
        limit = int(handler.query.get("limit", ["4"])[0])
        texts = [
            json.dumps(_contact(i)).encode() for i in range(offset, min(self.total, offset + limit))
        ]
        page = offset // limit
        if page in self.odd:  # the odd record stands in for the one at its position
            position, text = self.odd[page]
            texts[position] = text.replace(b'"c5"', f'"c{offset + position}"'.encode())
        before, after = self.around.get(page, (b"", b""))
        body = (b"\xef\xbb\xbf" if page in self.bom else b"") + b"{" + before + b'"data": ['
        body += b", ".join(texts) + b"]" + after + b"}"
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)


def _spaced(line: str) -> bool:
    """Whether a RECORD line carries the server's own spacing (the fast path's bytes)."""
    return '"record":{"id": "' in line


ODD_RECORDS = {
    "drift": b'{"id": "c5", "name": "Zo\\u00eb 5", "owner_id": "five"}',
    "undeclared": b'{"id": "c5", "name": "x", "owner_id": 5, "nickname": "n"}',
    "integral float": b'{"id": "c5", "name": "x", "owner_id": 5.0}',
    "lone surrogate": b'{"id": "c5", "name": "cut \\ud83d", "owner_id": 5}',
    "huge number": b'{"id": "c5", "name": "x", "owner_id": 5, "seen": 1e400}',
    "null key": b'{"id": null, "name": "x", "owner_id": 5}',
    "byte order mark": b'{"id": "c5", "name": "x", "owner_id": 5}',
    "not UTF-8": b'{"id": "c5", "name": "x", "owner_id": 5, "custom_attributes": {"a": "\xff"}}',
}


@pytest.mark.parametrize("odd", list(ODD_RECORDS), ids=list(ODD_RECORDS))
def test_a_page_the_check_cannot_vouch_for_goes_todays_way_whole(
    monkeypatch: pytest.MonkeyPatch, odd: str
) -> None:
    bom = frozenset({1}) if odd == "byte order mark" else frozenset()
    server = SpacedPages(12, {1: (1, ODD_RECORDS[odd])}, bom)
    refused = {"null key": "primary key id missing or null", "not UTF-8": "not utf-8 at byte"}
    with HostileServer(server) as api:
        config = {
            "source": "helpdesk",
            "base_url": api.url,
            "api_key": "k",
            "page_size": 4,
            "max_concurrent_requests": 1,
            "max_retries": 0,
        }
        catalog = _only(config, "contacts")
        if odd in refused:  # today's path refuses the page: so does the fast one
            with pytest.raises(Exception, match=refused[odd]):
                sync(config, catalog, fast=True)
            return
        fast = sync(config, catalog, fast=True)
        with monkeypatch.context() as patch:
            patch.setattr(fast_path, "obstacle", lambda stream: "turned off by the test")
            today = sync(config, catalog, fast=True)
    lines = [line for line in fast.lines if line.startswith('{"type":"RECORD"')]
    assert len(lines) == 12
    assert [_spaced(line) for line in lines] == [True] * 4 + [False] * 4 + [True] * 4
    assert_same_records(fast, today)


def _only(config: dict[str, Any], stream: str) -> dict[str, Any]:
    from tap_generic_rest.tap import TapGenericRest

    catalog = TapGenericRest(config=config).catalog_dict
    for entry in catalog["streams"]:
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = entry["tap_stream_id"] == stream
    return catalog


def test_an_undeclared_field_falls_back_once_then_pages_with_it_go_fast() -> None:
    server = SpacedPages(12, {p: (0, ODD_RECORDS["undeclared"]) for p in range(3)})
    with HostileServer(server) as api:
        config = {"source": "helpdesk", "base_url": api.url, "api_key": "k", "page_size": 4}
        fast = sync(config, _only(config, "contacts"), fast=True)
    lines = [line for line in fast.lines if line.startswith('{"type":"RECORD"')]
    assert [_spaced(line) for line in lines] == [False] * 4 + [True] * 8


def test_envelopes_that_change_from_page_to_page_are_split_alike(
    monkeypatch: pytest.MonkeyPatch, pages: Counter[tuple[str, bool]]
) -> None:
    """Keys beside the records come, go and move: each page split, the paging reads them."""
    around = {
        1: (b'"meta": {"n": 1}, ', b""),
        2: (b"", b', "meta": {"n": 12345678901234567890}, "x": [1.50]'),
        3: (b'"x": null, ', b', "meta": {}'),
    }
    server = SpacedPages(20, {}, around=around)
    with HostileServer(server) as api:
        config = {"source": "helpdesk", "base_url": api.url, "api_key": "k", "page_size": 4}
        catalog = _only(config, "contacts")
        fast = sync(config, catalog, fast=True)
        today = without_fast_path_sync(config, catalog, monkeypatch)
    assert_same_records(fast, today)
    assert pages == {("contacts", True): 6}  # the last one empty


def without_fast_path_sync(
    config: dict[str, Any], catalog: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> Sync:
    with monkeypatch.context() as patch:
        patch.setattr(fast_path, "obstacle", lambda stream: "turned off by the test")
        return sync(config, catalog, fast=True)


def test_a_spread_body_is_written_one_record_a_line() -> None:
    """A server that pretty-prints: each record on one line, values as sent."""

    def pretty(handler: Handler) -> None:
        offset = int(handler.query.get("offset", ["0"])[0])
        rows = [_contact(i) for i in range(offset, min(6, offset + 4))]
        body = json.dumps({"data": rows}, indent=2).replace("\n", "\r\n").encode()
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    with HostileServer(pretty) as api:
        config = {"source": "helpdesk", "base_url": api.url, "api_key": "k", "page_size": 4}
        fast = sync(config, _only(config, "contacts"), fast=True)
    assert fast.records("contacts") == [_contact(i) for i in range(6)]


# --- the typed check never lets through what today's checks would flag --------------------------

_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -7,
    18446744073709551617,
    1.5,
    42.0,
    1e300,
    "",
    "text",
    "Zoë \u2028",
    [],
    [1, "a"],
    [{"a": 1}],
    {},
    {"type": "x", "extra": 1},
    {"nested": {"deep": [None]}},
]


def _random_record(schema: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    names = list(schema.get("properties", {}))
    record: dict[str, Any] = {}
    for name in rng.sample(names, k=min(len(names), rng.randint(0, 6))):
        prop = schema["properties"][name]
        if isinstance(prop, dict) and "properties" in prop and rng.random() < 0.5:
            record[name] = _random_record(prop, rng)
        else:
            record[name] = rng.choice(_VALUES)
    if rng.random() < 0.1:
        record["undeclared"] = 1
    return record


SCHEMAS = sorted((ROOT / "schemas").glob("*/*.json"))
#: What no source's schema has: objects whose undeclared keys the SDK drops (additionalProperties
#: unset), a boolean-only field, integers and numbers only, arrays of objects.
STRICT = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "flag": {"type": "boolean"},
        "count": {"type": ["integer", "null"]},
        "ratio": {"type": "number"},
        "owner": {"type": ["object", "null"], "properties": {"type": {"type": "string"}}},
        "tags": {
            "type": "array",
            "items": {"type": "object", "properties": {"a": {"type": "integer"}}},
        },
        "free": {"type": "object", "additionalProperties": True},
        "either": {"type": ["string", "integer"]},
    },
}


def _check_schema(schema: dict[str, Any], seed: str) -> None:
    try:
        typed = msgspec.json.Decoder(record_type(schema).type)
    except CannotTypeError:
        pytest.skip("the stream keeps today's path")
    check = compile_record_check(schema)
    declared = set(schema["properties"])
    rng = random.Random(seed)
    passed = 0
    for _ in range(400):
        text = json.dumps(_random_record(schema, rng)).encode()
        try:
            typed.decode(text)
        except msgspec.DecodeError:
            continue
        record = loads(text)
        assert check(record) == 0, text
        assert set(record) <= declared, text
        passed += 1
    assert passed > 20  # the generated records reach both answers


@pytest.mark.parametrize("path", SCHEMAS, ids=[f"{p.parent.name}/{p.stem}" for p in SCHEMAS])
def test_a_record_the_typed_check_passes_needs_nothing_from_todays_checks(path: Path) -> None:
    _check_schema(json.loads(path.read_text()), path.name)


@pytest.mark.parametrize(
    ("record", "fits"),
    [
        ({"id": "a", "owner": {"type": "x"}, "tags": [{"a": 1}], "free": {"x": [1]}}, True),
        ({"id": "a", "count": 18446744073709551617, "ratio": 1e300, "either": 3}, True),
        ({"id": "a", "owner": {"type": "x", "extra": 1}}, False),  # the SDK drops "extra"
        ({"id": "a", "tags": [{"a": 1, "b": 2}]}, False),
        ({"id": "a", "extra": 1}, False),
        ({"id": "a", "flag": 1}, False),  # the SDK makes it true
        ({"id": "a", "count": 2.0}, False),
        ({"id": "a", "either": 1.5}, False),
    ],
)
def test_strict_objects_and_booleans_are_checked_as_the_sdk_conforms_them(
    record: dict[str, Any], fits: bool
) -> None:
    typed = msgspec.json.Decoder(record_type(STRICT).type)
    try:
        typed.decode(json.dumps(record))
    except msgspec.ValidationError:
        passed = False
    else:
        passed = True
    assert passed is fits
    assert (compile_record_check(STRICT)(record) == 0) is fits


def test_generated_records_of_a_strict_schema() -> None:
    _check_schema(STRICT, "strict")


# --- specs: selectors the fast path follows, paging that reads the records ----------------------

BASE = "https://api.example.com"


def _spec(paginator: Any, **endpoint: Any) -> dict[str, Any]:
    resource = {"name": "things", "primary_key": "id", "write_disposition": "merge"}
    resource["endpoint"] = {"path": "/things", "paginator": paginator, **endpoint}
    return {
        "base_url": BASE,
        "spec": {"client": {"base_url": BASE}, "resources": [resource]},
        "max_concurrent_requests": 1,
    }


def _rows(page: int) -> list[dict[str, Any]]:
    return [{"id": page * 3 + i, "token": f"t{page * 3 + i}", "score": 1.5} for i in range(3)]


LINK = {"type": "json_link", "next_url_path": "meta.next"}


@pytest.mark.parametrize(
    ("selector", "wrap"),
    [
        (None, lambda rows, more: {"things": rows, "meta": more}),
        ("result.items", lambda rows, more: {"result": {"items": rows, "n": 3}, "meta": more}),
    ],
    ids=["the only list", "a nested selector"],
)
def test_spec_selectors_are_split(
    requests_mock: Any,
    monkeypatch: pytest.MonkeyPatch,
    pages: Counter[tuple[str, bool]],
    selector: str | None,
    wrap: Any,
) -> None:
    for page in range(3):
        more = {"next": f"{BASE}/things?page={page + 1}"} if page < 2 else {}
        query = "" if page == 0 else f"?page={page}"
        requests_mock.get(f"{BASE}/things{query}", json=wrap(_rows(page), more), complete_qs=True)
    config = _spec(LINK, **({"data_selector": selector} if selector else {}))
    fast = sync(config, fast=True)
    assert [r["id"] for r in fast.records("things")] == list(range(9))
    assert_same_records(fast, without_fast_path(config, monkeypatch))
    assert pages[("things", True)] == 3


def test_paging_that_reads_the_records_keeps_them_decoded(
    requests_mock: Any, monkeypatch: pytest.MonkeyPatch, pages: Counter[tuple[str, bool]]
) -> None:
    """A cursor taken from the last record: the records must be decoded, whole, as today."""
    cursor = {
        "type": "cursor",
        "cursor_value": '{{ response["items"][-1]["token"] }}',
        "cursor_param": "after",
    }
    for page in range(3):
        query = "" if page == 0 else f"?after=t{page * 3 - 1}"
        rows = _rows(page) if page < 2 else []
        requests_mock.get(f"{BASE}/things{query}", json={"items": rows}, complete_qs=True)
    config = _spec(cursor, data_selector="items")
    fast = sync(config, fast=True)
    assert [r["id"] for r in fast.records("things")] == list(range(6))
    assert not pages  # no fast record path for this stream


def test_a_page_repeated_after_going_the_other_way_is_still_a_repeat(
    monkeypatch: pytest.MonkeyPatch, pages: Counter[tuple[str, bool]]
) -> None:
    """A server that loops back to its first page: caught at once, whichever way each went.

    The first page goes today's way (it brings an undeclared field), its repeat the fast way
    (the field is known by then); the page guard's fingerprint is the same for both.
    """
    size = 50

    def looping(handler: Handler) -> None:
        page = int(handler.query["offset"][0]) // size % 5  # after five pages, the first again
        texts = [json.dumps(_contact(page * size + i)).encode() for i in range(size)]
        if page == 0:
            texts[0] = ODD_RECORDS["undeclared"].replace(b'"c5"', b'"c0"')
        body = b'{"data": [' + b", ".join(texts) + b"]}"
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    outcomes = []
    with HostileServer(looping) as api:
        config = {"source": "helpdesk", "base_url": api.url, "api_key": "k", "page_size": size}
        catalog = _only(config, "contacts")
        for turned_off in (False, True):
            with monkeypatch.context() as patch:
                if turned_off:
                    patch.setattr(fast_path, "obstacle", lambda stream: "turned off")
                with pytest.raises(Exception, match="repeats an earlier page") as failed:
                    sync(config, catalog, fast=True)
            outcomes.append(failed.value)
    assert pages[("contacts", True)] == 4  # pages 2 to 5 (the repeat fails before it is taken)


def test_a_replace_resource_writes_its_records_version(
    requests_mock: Any, monkeypatch: pytest.MonkeyPatch, pages: Counter[tuple[str, bool]]
) -> None:
    """``write_disposition: replace``: every RECORD carries the table version, as today."""
    for page in range(2):
        more = {"next": f"{BASE}/things?page=1"} if page == 0 else {}
        query = "" if page == 0 else "?page=1"
        body = {"things": _rows(page), "meta": more}
        requests_mock.get(f"{BASE}/things{query}", json=body, complete_qs=True)
    config = _spec(LINK, data_selector="things")
    config["spec"]["resources"][0]["write_disposition"] = "replace"
    fast = sync(config, fast=True)
    records = [m for m in fast.messages if m["type"] == "RECORD"]
    assert len(records) == 6
    keys = ["type", "stream", "record", "version", "time_extracted"]
    assert all(list(m) == keys for m in records)
    assert_same_records(fast, without_fast_path(config, monkeypatch))
    assert pages[("things", True)] == 2


PAGE_NUMBER = {"type": "page_number", "base_page": 1, "page_param": "page", "total_path": None}
#: Bodies whose lists other than the records come first: dlt's detector picks the records.
DETECTED = {
    "an empty list first": lambda rows: {"warnings": [], "result": {"items": rows}},
    "a list of notes first": lambda rows: {"notes": ["a"], "data": rows},
    "a meta list first": lambda rows: {"meta": {"links": []}, "page": {"results": rows}},
}


@pytest.mark.parametrize("wrap", DETECTED.values(), ids=DETECTED.keys())
def test_without_a_selector_the_fast_path_splits_the_list_dlt_detects(
    requests_mock: Any,
    monkeypatch: pytest.MonkeyPatch,
    pages: Counter[tuple[str, bool]],
    wrap: Any,
) -> None:
    """Drift on page 2 widens the SCHEMA before its record, as with the fast path off."""
    rows = {1: [{"id": 1, "n": 1}], 2: [{"id": 2, "n": "abc", "extra": {"x": 1}}], 3: []}
    for page, records in rows.items():
        url = f"{BASE}/things?page={page}"
        requests_mock.get(url, json=wrap(records), complete_qs=True)
    requests_mock.get(f"{BASE}/things", json=wrap(rows[1]), complete_qs=True)
    config = _spec(PAGE_NUMBER)
    fast = sync(config, fast=True)
    kinds = [(m["type"], m.get("record", {}).get("id")) for m in fast.messages]
    kinds = [kind for kind in kinds if kind[0] in ("SCHEMA", "RECORD")]
    assert kinds == [("SCHEMA", None), ("RECORD", 1), ("SCHEMA", None), ("RECORD", 2)]
    widened = [m for m in fast.messages if m["type"] == "SCHEMA"][-1]
    assert "string" in widened["schema"]["properties"]["n"]["type"]
    assert_same_records(fast, without_fast_path(config, monkeypatch))
    assert pages[("things", True)] == 2  # pages 1 and 3; page 2 went today's way
    assert pages[("things", False)] == 1


def test_a_split_of_another_list_than_the_selectors_is_checked_as_today() -> None:
    """The split vouches only for the very records the stream's selector found."""
    schema = {"type": "object", "properties": {"id": {"type": "integer"}}}
    split = fast_path.FastPath(schema, "data", ["id"]).split(b'{"data": [{"id": 1}], "x": []}')
    assert split is not None
    assert split.holds(split.body["data"])
    assert split.holds(list(split.body["data"]))  # the same records, found by a JSONPath
    assert not split.holds(split.body["x"])
    assert not split.holds([dict(split.views[0])])
