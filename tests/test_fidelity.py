"""Data fidelity: every value exact, every record once, nothing lost in silence.

Against the sandbox serving what real APIs send on a bad day (``sandbox/oddities.py``
and ``sandbox/mutations.py``): odd JSON, values of the wrong type, data that changes
while the tap pages it, and servers that cap pages without saying so. Each case runs
through the fast record path and the SDK's, one page at a time and with pages fetched
ahead, for every source where it applies.
"""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import orjson
import pytest
from jsonschema import Draft7Validator

from sandbox import Sandbox
from sandbox.oddities import TRICKY_FIELD, drift_fields, render_tricky, tricky_record
from sandbox.sources import AVATAR_TYPES
from tap_generic_rest.errors import PaginationError, ResponseShapeError
from tap_generic_rest.http import body as payload
from tap_generic_rest.sources import all_sources
from tests.helpers import run_sync
from tests.test_fastpath import sync

#: Fetching ahead as configured, whatever the pace (see tests/test_pace.py).
pytestmark = pytest.mark.usefixtures("pages_ahead_as_configured")

if TYPE_CHECKING:
    from requests_mock import Mocker

SOURCES = sorted(all_sources())
PATHS = pytest.mark.parametrize("fast", [True, False], ids=["fast-path", "sdk-path"])
WORKERS = pytest.mark.parametrize("workers", [1, 4], ids=["sequential", "prefetch"])
#: Streams of each source, with their primary key.
STREAMS = {
    name: [(stream.name, tuple(stream.primary_keys or ())) for stream in source.streams]
    for name, source in all_sources().items()
}


def exact(line: str) -> Any:
    """A message line parsed the way the issue defines "exact": floats as Decimal."""
    return json.loads(line, parse_float=Decimal)


def key_of(record: dict[str, Any], keys: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(record[k] for k in keys)


# --- values arrive exactly as the server sent them -----------------------------------------------


class TestExactDecoder:
    """payload.loads: orjson where it is exact, the standard library where it is not."""

    @pytest.mark.parametrize(
        "body",
        [
            b'\xef\xbb\xbf{"data": [1]}',
            b'{"s": "cut \\ud83d emoji", "t": "\\udc00"}',
            b'{"n": 18446744073709551617, "m": -123456789012345678901234567890}',
            b'{"pi": 3.14159265358979323846264338327950288, "tiny": 1.5e-400}',
            b'{"money": 12345678901234567.89, "ok": 0.30000000000000004, "e": 1E5}',
            b'{"huge": 1e400, "neg": -0.0, "nan": NaN}',
            '{"u": "Zo\u00eb \u2028"}'.encode(),
        ],
    )
    def test_every_value_equals_the_standard_library_s(self, body: bytes) -> None:
        assert _same(payload.loads(body), json.loads(body, parse_float=Decimal))

    def test_ordinary_pages_keep_the_fast_decoder(self, monkeypatch: pytest.MonkeyPatch) -> None:
        used: list[str] = []
        monkeypatch.setattr(payload, "exact_loads", lambda content: used.append("exact"))
        payload.loads(b'{"data": [{"id": 1, "x": 1.25, "ts": 1700000000123}], "total": 1}')
        assert used == []
        payload.loads(b'{"id": 12345678901234567}')
        assert used == ["exact"]

    def test_a_body_json_refuses_is_still_an_error(self) -> None:
        with pytest.raises(ValueError, match="Expecting"):
            payload.loads(b'{"data": [1, 2')


def _same(got: Any, want: Any) -> bool:
    """Equal value for value, a float equal to the Decimal of its own digits."""
    if isinstance(want, Decimal) and isinstance(got, float):
        return Decimal(repr(got)) == want
    if isinstance(want, float) and want != want:  # NaN
        return isinstance(got, float) and got != got
    if isinstance(want, dict):
        return (
            isinstance(got, dict)
            and got.keys() == want.keys()
            and all(_same(got[k], want[k]) for k in want)
        )
    if isinstance(want, list):
        return (
            isinstance(got, list)
            and len(got) == len(want)
            and all(_same(g, w) for g, w in zip(got, want, strict=True))
        )
    return type(got) is type(want) and got == want


@pytest.fixture(scope="module")
def tricky_sandbox() -> Any:
    with Sandbox(seed=5, default_size=13, tricky_values=True) as sandbox:
        yield sandbox


def served_exactly(sandbox: Sandbox, source: str, stream: str) -> list[dict[str, Any]]:
    """The stream's records as a standard-library client decodes the sandbox's bytes."""
    parts = AVATAR_TYPES if stream == "avatars" else (None,)
    served = []
    for part in parts:
        for position, record in enumerate(sandbox.records(source, stream, part)):
            text = render_tricky(orjson.dumps(tricky_record(record, position)))
            served.append(json.loads(text, parse_float=Decimal))
            if part is not None:  # the tap adds the avatar type it read the record for
                served[-1]["avatar_type"] = part
    return served


@pytest.mark.parametrize("source", SOURCES)
@PATHS
@WORKERS
def test_values_arrive_exactly(
    tricky_sandbox: Sandbox, source: str, fast: bool, workers: int
) -> None:
    """BOM, lone surrogates, integers past 64 bits, long decimals: through unchanged."""
    config = tricky_sandbox.tap_config(source, max_concurrent_requests=workers, page_size=4)
    out = sync(config, fast=fast)
    for line in out.lines:
        line.encode("utf-8")  # a lone surrogate goes out as its escape, never raw
    messages = [exact(line) for line in out.lines]
    tricky_seen = 0
    for stream, keys in STREAMS[source]:
        want = {key_of(r, keys): r for r in served_exactly(tricky_sandbox, source, stream)}
        got = [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == stream]
        assert len(got) == len(want), stream
        for record in got:
            expected = want[key_of(record, keys)]
            assert {k: record[k] for k in expected} == expected
            if TRICKY_FIELD in expected:
                tricky_seen += 1
                assert _same(record[TRICKY_FIELD], expected[TRICKY_FIELD])
    assert tricky_seen


# --- records that do not fit their schema --------------------------------------------------------


@pytest.fixture(scope="module")
def drift_sandbox() -> Any:
    with Sandbox(seed=6, default_size=9, drift=True) as sandbox:
        yield sandbox


@pytest.mark.parametrize("source", SOURCES)
@PATHS
def test_drifted_values_are_kept_and_the_schema_widened(
    drift_sandbox: Sandbox, source: str, fast: bool, caplog: pytest.LogCaptureFixture
) -> None:
    config = drift_sandbox.tap_config(source, max_concurrent_requests=1)
    with caplog.at_level(logging.WARNING):
        out = sync(config, fast=fast)
    validators: dict[str, Draft7Validator] = {}
    drifted: dict[str, int] = {}
    for message in out.messages:
        if message["type"] == "SCHEMA":
            validators[message["stream"]] = Draft7Validator(message["schema"])
            continue
        if message["type"] != "RECORD":
            continue
        stream, record = message["stream"], message["record"]
        assert list(validators[stream].iter_errors(record)) == [], (stream, record)
        for field, value in drift_fields(source, stream):
            if record.get(field) == value and type(record[field]) is type(value):
                drifted[stream] = drifted.get(stream, 0) + 1
    expected = {s for s, _ in STREAMS[source] if drift_fields(source, s)}
    assert set(drifted) == expected
    for stream in expected:
        for field, _ in drift_fields(source, stream):
            warnings = [
                r.getMessage()
                for r in caplog.records
                if f"stream '{stream}': field '{field}' is declared" in r.getMessage()
            ]
            assert len(warnings) == 1, (stream, field, warnings)


def test_a_string_in_a_boolean_field_is_not_turned_into_true(
    drift_sandbox: Sandbox,
) -> None:
    """The SDK's conformance used to send "no" as true; the record keeps "no"."""
    config = drift_sandbox.tap_config("oncall", max_concurrent_requests=1)
    records = [
        m["record"]
        for m in sync(config, fast=False).messages
        if m["type"] == "RECORD" and m["stream"] == "integrations"
    ]
    field = next(f for f, v in drift_fields("oncall", "integrations") if v == "no")
    assert sum(r[field] == "no" for r in records) == len(records[::4])


@PATHS
def test_drift_after_the_first_page_sends_a_new_schema_before_the_record(
    requests_mock: Mocker, fast: bool
) -> None:
    first = [{"id": f"c{i}", "unsubscribed_from_emails": True} for i in range(3)]
    second = [{"id": "c3", "unsubscribed_from_emails": "no"}, {"id": "c4", "location": False}]
    url = "https://hd.example.com/v1/contacts"
    requests_mock.get(url, json={"data": first})
    requests_mock.get(f"{url}?offset=3", json={"data": second})
    requests_mock.get(f"{url}?offset=5", json={"data": []})
    config = {
        "source": "helpdesk",
        "base_url": "https://hd.example.com",
        "api_key": "k-123",
        "page_size": 3,
        "max_concurrent_requests": 1,
    }
    catalog = {"streams": [e for e in _catalog(config)["streams"] if e["stream"] == "contacts"]}
    out = sync(config, catalog, fast=fast)
    kinds = [(m["type"], m.get("record", {}).get("id")) for m in out.messages]
    assert [k for k in kinds if k[0] in ("SCHEMA", "RECORD")] == [
        ("SCHEMA", None),
        ("RECORD", "c0"),
        ("RECORD", "c1"),
        ("RECORD", "c2"),
        ("SCHEMA", None),
        ("RECORD", "c3"),
        ("RECORD", "c4"),
    ]
    schema = [m for m in out.messages if m["type"] == "SCHEMA"][-1]["schema"]["properties"]
    assert "string" in schema["unsubscribed_from_emails"]["type"]
    assert "boolean" in schema["location"]["type"]
    assert [m["record"] for m in out.messages if m["type"] == "RECORD"] == first + second


def _catalog(config: dict[str, Any]) -> dict[str, Any]:
    from tap_generic_rest.tap import TapGenericRest

    catalog: dict[str, Any] = TapGenericRest(config=config, setup_mapper=False).catalog_dict
    for entry in catalog["streams"]:
        entry["metadata"][0]["metadata"]["selected"] = entry["stream"] == "contacts"
    return catalog


def _page(requests_mock: Mocker, records: list[Any]) -> None:
    requests_mock.get("https://hd.example.com/v1/contacts", json={"data": records})


@pytest.mark.parametrize(
    ("records", "problem"),
    [
        ([{"id": "a"}, 5, {"id": "c"}], "record 2 of the page from .* is a JSON number"),
        ([{"id": "a"}, ["x"]], "record 2 of the page from .* is a JSON array"),
        ([{"id": "a"}, {"id": None}], "record 2 .* has its primary key id missing or null"),
        ([{"name": "no id"}], "record 1 .* has its primary key id missing or null"),
    ],
)
def test_a_record_that_is_not_an_object_or_has_no_key_fails_the_stream(
    requests_mock: Mocker, records: list[Any], problem: str
) -> None:
    _page(requests_mock, records)
    config = {"source": "helpdesk", "base_url": "https://hd.example.com", "api_key": "k-123"}
    with pytest.raises(ResponseShapeError, match=problem) as failure:
        run_sync(config, streams=["contacts"])
    assert "stream 'contacts'" in str(failure.value)
    assert "GET /v1/contacts -> 200" in str(failure.value)
    assert "k-123" not in str(failure.value)


# --- paging over data that changes while the tap reads it ----------------------------------------

#: A paged stream of each source, its page size for the test, and its key.
PAGED = {
    "chat": ("users", 1),
    "helpdesk": ("contacts", 3),
    "tracker": ("boards", 3),
    "statuspage": ("pages", 3),
    # Not alerts: they are read sorted by updatedAt, where a new record lands at the end.
    "oncall": ("incidents", 3),
}


def _paged_config(sandbox: Sandbox, source: str, workers: int) -> dict[str, Any]:
    _, size = PAGED[source]
    return sandbox.tap_config(source, page_size=size, max_concurrent_requests=workers)


@pytest.mark.parametrize("source", SOURCES)
@WORKERS
def test_an_insert_while_paging_emits_every_record_once(
    source: str, workers: int, caplog: pytest.LogCaptureFixture
) -> None:
    stream, _ = PAGED[source]
    keys = dict(STREAMS[source])[stream]
    with Sandbox(seed=8, default_size=20) as sandbox:
        before = {key_of(r, keys) for r in sandbox.records(source, stream)}
        sandbox.mutate(source, stream, insert=1, at=0, after_requests=3)
        with caplog.at_level(logging.WARNING):
            messages = run_sync(_paged_config(sandbox, source, workers), streams=[stream])
        after = {key_of(r, keys) for r in sandbox.records(source, stream)}
    got = [key_of(m["record"], keys) for m in messages if m["type"] == "RECORD"]
    assert len(got) == len(set(got)), "a record was emitted twice"
    assert before <= set(got) <= after | before
    assert len(after) == len(before) + 1
    assert "were read already" in caplog.text


@pytest.mark.parametrize("source", ["chat", "helpdesk", "statuspage", "tracker"])
@WORKERS
def test_a_delete_while_paging_never_fails_nor_repeats(
    source: str, workers: int, caplog: pytest.LogCaptureFixture
) -> None:
    """A deletion may shift one record past the boundary (the next run reads it)."""
    stream, _ = PAGED[source]
    keys = dict(STREAMS[source])[stream]
    with Sandbox(seed=8, default_size=20) as sandbox:
        before = {key_of(r, keys) for r in sandbox.records(source, stream)}
        sandbox.mutate(source, stream, delete=[0], after_requests=3)
        with caplog.at_level(logging.WARNING):
            messages = run_sync(_paged_config(sandbox, source, workers), streams=[stream])
    got = [key_of(m["record"], keys) for m in messages if m["type"] == "RECORD"]
    assert len(got) == len(set(got))
    assert set(got) <= before
    assert len(before - set(got)) <= 2  # the deleted record, and at most one shifted past
    if source in ("chat", "tracker"):  # they report a total
        assert "the reported total changed from 20 to 19" in caplog.text


@WORKERS
def test_a_server_that_ignores_the_offset_is_still_caught(
    requests_mock: Mocker, workers: int
) -> None:
    requests_mock.get(
        "https://hd.example.com/v1/contacts", json={"data": [{"id": "a"}, {"id": "b"}]}
    )
    config = {
        "source": "helpdesk",
        "base_url": "https://hd.example.com",
        "api_key": "k-123",
        "page_size": 2,
        "max_concurrent_requests": workers,
    }
    with pytest.raises(PaginationError, match="not paging on"):
        run_sync(config, streams=["contacts"])


# --- servers that cap the page size and report no total ------------------------------------------


@pytest.mark.parametrize(("source", "stream"), [("helpdesk", "contacts"), ("statuspage", "pages")])
@WORKERS
def test_a_capped_page_without_a_total_loses_nothing(
    source: str, stream: str, workers: int, caplog: pytest.LogCaptureFixture
) -> None:
    with Sandbox(seed=9, sizes={f"{source}.{stream}": 700}, offset_page_cap=50) as sandbox:
        config = sandbox.tap_config(source, page_size=100, max_concurrent_requests=workers)
        with caplog.at_level(logging.WARNING):
            messages = run_sync(config, streams=[stream])
        requests = [r for r in sandbox.requests if stream_path(source, stream) in r.path]
    records = [m["record"]["id"] for m in messages if m["type"] == "RECORD"]
    assert len(records) == len(set(records)) == 700
    assert caplog.text.count("at most 50 records a page where 100 were asked") == 1
    if workers == 1:
        assert len(requests) == 700 // 50 + 1  # 14 pages, then the empty page that ends it


def stream_path(source: str, stream: str) -> str:
    return {"contacts": "/v1/contacts", "pages": "/v1/resource"}[stream]


@pytest.mark.parametrize(("source", "stream"), [("helpdesk", "teams"), ("statuspage", "pages")])
def test_a_stream_shorter_than_a_page_costs_one_confirming_request(
    source: str, stream: str
) -> None:
    with Sandbox(seed=9, default_size=7) as sandbox:
        config = sandbox.tap_config(source, max_concurrent_requests=1)
        messages = run_sync(config, streams=[stream])
        requests = [r for r in sandbox.requests if r.status == 200]
    assert len([m for m in messages if m["type"] == "RECORD"]) == 7
    assert len(requests) == 2
