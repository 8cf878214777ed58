"""Incremental replication against the sandbox: read what changed, resume where a run stopped.

Every incremental stream: a first run reads everything; the sandbox's data then changes
(updates, inserts, and deletions for chat); a second run given the first run's final state
emits exactly the changed and new records (plus, where the filter is inclusive, the records at
the bookmark itself), and its requests carried the filter.
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from singer_sdk.exceptions import AbortedSyncFailedException, AbortedSyncPausedException

from sandbox import Sandbox
from sandbox.data import iso_ms
from tap_generic_rest.config.validate import config_errors
from tap_generic_rest.stream.replication import STATE_EVERY, to_moment
from tap_generic_rest.tap import TapGenericRest

#: (source, stream) -> (replication key, primary key, how the API filters).
STREAMS = {
    ("chat", "rooms"): ("_updatedAt", "_id", "updatedSince"),
    ("chat", "subscriptions"): ("_updatedAt", "_id", "updatedSince"),
    ("oncall", "alerts"): ("updatedAt", "id", "query"),
    ("oncall", "incidents"): ("updatedAt", "id", "query"),
    ("helpdesk", "conversations"): ("updated_at", "id", None),
    ("helpdesk", "contacts"): ("updated_at", "id", None),
    ("helpdesk", "companies"): ("updated_at", "id", None),
    ("statuspage", "pages"): ("updated_at", "id", None),
}
PATHS = {
    ("chat", "rooms"): "/chat/api/v1/rooms.get",
    ("chat", "subscriptions"): "/chat/api/v1/subscriptions.get",
    ("oncall", "alerts"): "/oncall/v2/alerts",
    ("oncall", "incidents"): "/oncall/v1/incidents",
    ("helpdesk", "conversations"): "/helpdesk/v1/conversations",
    ("helpdesk", "contacts"): "/helpdesk/v1/contacts",
    ("helpdesk", "companies"): "/helpdesk/v1/companies",
    ("statuspage", "pages"): "/statuspage/v1/resource",
}


@dataclass
class Run:
    """One run's Singer messages, split up."""

    messages: list[dict[str, Any]]
    records: list[dict[str, Any]] = field(default_factory=list)
    states: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.records = [m["record"] for m in self.messages if m["type"] == "RECORD"]
        self.states = [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def state(self) -> dict[str, Any]:
        return self.states[-1]

    def bookmark(self, stream: str) -> Any:
        return self.state["bookmarks"][stream].get("replication_key_value")


def sync(
    sb: Sandbox,
    source: str,
    stream: str,
    state: dict[str, Any] | None = None,
    *,
    abort_at: int | None = None,
    method: str | None = None,
    key: str | None = None,
    **settings: Any,
) -> Run:
    """Run the tap in-process for one stream; ``abort_at`` stops it after that many records."""
    config = sb.tap_config(source, **{"page_size": 7, **settings})
    catalog = _only(config, stream)
    entry = next(e for e in catalog["streams"] if e["tap_stream_id"] == stream)
    if method:
        entry["replication_method"] = method
    if key:
        entry["replication_key"] = key
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        tap = TapGenericRest(config=config, catalog=catalog, state=state)
        if abort_at is not None:
            tap.streams[stream].ABORT_AT_RECORD_COUNT = abort_at
        try:
            tap.sync_all()
        except (AbortedSyncPausedException, AbortedSyncFailedException):
            assert abort_at is not None
    return Run([json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()])


def sent(sb: Sandbox, source: str, stream: str) -> list[dict[str, list[str]]]:
    """Query parameters of the stream's requests so far (credentials left out)."""
    path = PATHS[source, stream]
    return [
        {k: v for k, v in r.query.items() if k != "api_key"} for r in sb.requests if r.path == path
    ]


def ids(records: list[dict[str, Any]], pk: str) -> list[Any]:
    return [r[pk] for r in records]


def moment(value: Any) -> datetime:
    """A key value or bookmark as a datetime (it must be one)."""
    found = to_moment(value)
    assert found is not None
    return found


def epoch_ms(value: Any) -> int:
    return int(moment(value).timestamp() * 1000)


@pytest.fixture
def sb() -> Any:
    with Sandbox(seed=3, default_size=40, sizes={"chat.rooms": 12, "chat.subscriptions": 12}) as s:
        yield s


@pytest.mark.parametrize(("source", "stream"), list(STREAMS))
def test_second_run_reads_exactly_what_changed(sb: Sandbox, source: str, stream: str) -> None:
    key, pk, param = STREAMS[source, stream]
    first = sync(sb, source, stream)
    everything = sb.records(source, stream)
    assert sorted(first.records, key=lambda r: r[pk]) == sorted(everything, key=lambda r: r[pk])
    if stream == "alerts":  # asked sorted by the key
        assert [r[key] for r in first.records] == sorted(r[key] for r in everything)
    bookmark = first.bookmark(stream)
    assert bookmark == max(r[key] for r in everything)
    assert first.state["bookmarks"][stream]["replication_key"] == key

    sb.clear_requests()
    deletes = [6] if source == "chat" else []  # only chat's API lists deletions
    changed = sb.mutate(source, stream, update=[1, 4], insert=2, at=0, delete=deletes)
    second = sync(sb, source, stream, first.state)

    # Inclusive filters (oncall's >=, the tap's own) read the records at the bookmark again.
    now = sb.records(source, stream)
    at_bookmark = [] if source == "chat" else [r for r in now if r[key] == bookmark]
    deleted = [
        {pk: r[pk], key: iso_ms(changed["at"]), "_sdc_deleted_at": iso_ms(changed["at"])}
        for r in changed["deleted"]
    ]
    expected = changed["updated"] + changed["inserted"] + at_bookmark + deleted
    key_of = {r[pk]: r for r in second.records}
    assert sorted(key_of) == sorted(ids(expected, pk))
    assert len(second.records) == len(expected)  # no record twice
    for record in expected:
        assert key_of[record[pk]] == record
    assert second.bookmark(stream) == max(r[key] for r in changed["updated"])

    queries = sent(sb, source, stream)
    if param == "updatedSince":
        assert queries == [{"updatedSince": [bookmark]}]
    elif param == "query":
        assert queries[0]["query"] == [f"updatedAt>={epoch_ms(bookmark)}"]
        if stream == "alerts":
            assert (queries[0]["sort"], queries[0]["order"]) == (["updatedAt"], ["asc"])
        assert len(queries) < len(sent_first_run(sb, source, stream))
    else:  # no filter in the API: every page is read again, the tap drops what did not change
        assert all("updated" not in " ".join(q) for q in queries)
        assert len(queries) >= (len(everything) + 2) // 7


def sent_first_run(sb: Sandbox, source: str, stream: str) -> list[Any]:
    """The requests a run without a bookmark makes now (in a fresh sandbox of the same data)."""
    sb.clear_requests()
    sync(sb, source, stream)
    return sent(sb, source, stream)


def test_a_run_without_changes_emits_only_the_records_at_the_bookmark(sb: Sandbox) -> None:
    first = sync(sb, "chat", "rooms")
    again = sync(sb, "chat", "rooms", first.state)
    assert again.records == []
    assert again.state == first.state
    alerts = sync(sb, "oncall", "alerts")
    alerts_again = sync(sb, "oncall", "alerts", alerts.state)
    assert {r["updatedAt"] for r in alerts_again.records} == {alerts.bookmark("alerts")}
    assert alerts_again.state == alerts.state


def test_an_interrupted_sorted_stream_resumes_from_its_last_state() -> None:
    with Sandbox(seed=4, sizes={"oncall.alerts": 2600}) as sb:
        everything = sb.records("oncall", "alerts")
        stopped = sync(sb, "oncall", "alerts", abort_at=1500, page_size=100)
        assert len(stopped.records) == 1500
        # STATE at least every 1,000 records, each covering only records already emitted.
        emitted = 0
        last_state_at = 0
        for message in stopped.messages:
            if message["type"] == "RECORD":
                emitted += 1
                assert emitted - last_state_at <= STATE_EVERY
            elif message["type"] == "STATE" and "alerts" in message["value"].get("bookmarks", {}):
                last_state_at = emitted
                bookmark = message["value"]["bookmarks"]["alerts"]["replication_key_value"]
                got = stopped.records[:emitted]
                assert bookmark == max(r["updatedAt"] for r in got)
        resumed_from = stopped.bookmark("alerts")
        assert resumed_from == stopped.records[-1]["updatedAt"]  # sorted: the last one emitted

        sb.clear_requests()
        resumed = sync(sb, "oncall", "alerts", stopped.state, page_size=100)
        assert sent(sb, "oncall", "alerts")[0]["query"] == [f"updatedAt>={epoch_ms(resumed_from)}"]
        together = {r["id"] for r in stopped.records} | {r["id"] for r in resumed.records}
        assert together == {r["id"] for r in everything}
        # Only the records at the bookmark are read twice.
        twice = {r["id"] for r in stopped.records} & {r["id"] for r in resumed.records}
        assert all(r["updatedAt"] == resumed_from for r in resumed.records if r["id"] in twice)
        assert len(resumed.records) < len(everything) - 1000


def test_an_interrupted_unsorted_stream_keeps_its_old_bookmark(sb: Sandbox) -> None:
    first = sync(sb, "oncall", "incidents")
    changed = sb.mutate("oncall", "incidents", update=list(range(10)))
    stopped = sync(sb, "oncall", "incidents", first.state, abort_at=4)
    assert len(stopped.records) == 4
    assert stopped.bookmark("incidents") == first.bookmark("incidents")  # nothing lost
    resumed = sync(sb, "oncall", "incidents", stopped.state)
    assert {r["id"] for r in changed["updated"]} <= {r["id"] for r in resumed.records}
    assert resumed.bookmark("incidents") == changed["updated"][0]["updatedAt"]


def test_start_date_is_where_a_run_without_a_bookmark_starts(sb: Sandbox) -> None:
    for source, stream in (("oncall", "alerts"), ("helpdesk", "contacts"), ("chat", "rooms")):
        key, _, _ = STREAMS[source, stream]
        everything = sb.records(source, stream)
        moments = sorted(moment(r[key]) for r in everything)
        start = moments[len(moments) // 2]
        assert start is not None
        run = sync(sb, source, stream, start_date=start.isoformat())
        inclusive = source != "chat"  # Rocket.Chat's updatedSince is strictly after
        expected = [
            r
            for r in everything
            if (to_moment(r[key]) or start) > start or (inclusive and to_moment(r[key]) == start)
        ]
        assert sorted(ids(run.records, "_id" if source == "chat" else "id")) == sorted(
            ids(expected, "_id" if source == "chat" else "id")
        ), stream
        # A bookmark older than start_date gives way to it.
        oldest = min((r[key] for r in everything), key=moment)
        old = {"bookmarks": {stream: {"replication_key": key, "replication_key_value": oldest}}}
        assert len(sync(sb, source, stream, old, start_date=start.isoformat()).records) == len(
            run.records
        )


def test_lookback_reads_again_before_the_bookmark_without_moving_it_back(sb: Sandbox) -> None:
    for source, stream in (("oncall", "alerts"), ("helpdesk", "contacts"), ("chat", "rooms")):
        key, _, _ = STREAMS[source, stream]
        first = sync(sb, source, stream)
        bookmark = to_moment(first.bookmark(stream))
        assert bookmark is not None
        window = timedelta(days=15)
        again = sync(sb, source, stream, first.state, lookback_seconds=window.total_seconds())
        since = bookmark - window
        expected = [r for r in first.records if (to_moment(r[key]) or since) >= since]
        if source == "chat":
            expected = [r for r in expected if to_moment(r[key]) != since]
        assert len(again.records) == len(expected) > 1, stream
        assert again.bookmark(stream) == first.bookmark(stream), stream


def test_full_table_in_the_catalog_reads_everything_and_sends_no_filter(sb: Sandbox) -> None:
    for source, stream in (("oncall", "alerts"), ("chat", "rooms"), ("helpdesk", "contacts")):
        first = sync(sb, source, stream)
        sb.clear_requests()
        full = sync(sb, source, stream, first.state, method="FULL_TABLE")
        assert full.records == sb.records(source, stream), stream
        assert all("query" not in q and "updatedSince" not in q for q in sent(sb, source, stream))


@pytest.mark.usefixtures("pages_ahead_as_configured")
def test_prefetch_and_the_fast_path_give_the_same_incremental_output(sb: Sandbox) -> None:
    first = sync(sb, "helpdesk", "contacts")
    sb.mutate("helpdesk", "contacts", update=[3, 20, 33], insert=4, at=11)
    ahead = sync(sb, "helpdesk", "contacts", first.state, max_concurrent_requests=4)
    one_by_one = sync(sb, "helpdesk", "contacts", first.state, max_concurrent_requests=1)
    assert ahead.records == one_by_one.records
    assert ahead.state == one_by_one.state
    assert len(ahead.records) >= 7


def test_discovery_shows_method_key_and_valid_keys(sb: Sandbox) -> None:
    for source in ("chat", "oncall", "helpdesk", "statuspage", "tracker"):
        catalog = TapGenericRest(config=sb.tap_config(source), setup_mapper=False).catalog_dict
        for entry in catalog["streams"]:
            root = next(m for m in entry["metadata"] if m["breadcrumb"] == [])["metadata"]
            spec = STREAMS.get((source, entry["tap_stream_id"]))
            if spec is None:
                assert entry["replication_method"] == "FULL_TABLE"
                assert "replication_key" not in entry
                continue
            assert entry["replication_method"] == "INCREMENTAL"
            assert entry["replication_key"] == spec[0]
            assert root["forced-replication-method"] == "INCREMENTAL"
            assert root["valid-replication-keys"] == [spec[0]]
            deleted = "_sdc_deleted_at" in entry["schema"]["properties"]
            assert deleted == (source == "chat")


def test_start_date_must_be_a_date_time() -> None:
    schema = TapGenericRest.config_jsonschema
    base = {"source": "oncall", "base_url": "http://127.0.0.1:1/oncall", "api_token": "t"}
    assert config_errors({**base, "start_date": "2024-05-01T00:00:00Z"}, schema) == []
    assert config_errors({**base, "start_date": "last tuesday"}, schema) == [
        "setting 'start_date' must be an ISO 8601 date-time (2024-01-31T00:00:00Z)"
    ]
    assert config_errors({**base, "lookback_seconds": -1}, schema) == [
        "setting 'lookback_seconds' must be at least 0"
    ]


def test_times_convert_between_the_forms_apis_use() -> None:
    from tap_generic_rest.stream.replication import format_moment

    moment = datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=timezone.utc)
    assert format_moment(moment, "iso_ms") == "2024-02-29T23:59:58.123Z"
    assert format_moment(moment, "iso") == "2024-02-29T23:59:58Z"
    assert format_moment(moment, "epoch_ms") == "1709251198123"
    assert format_moment(moment, "epoch_s") == "1709251198"
    assert to_moment(1709251198) == moment.replace(microsecond=0)
    assert to_moment(1709251198123, "epoch_ms") == moment.replace(microsecond=123000)
    assert to_moment("2024-02-29T23:59:58.123456") == moment
    assert to_moment("not a time") is None
    assert to_moment(True) is None


def test_a_run_failing_mid_stream_resumes_from_its_last_state(requests_mock: Any) -> None:
    """The server fails for good after 1,500 alerts: the STATE written before holds."""
    from singer_sdk.exceptions import RetriableAPIError

    with Sandbox(seed=6, sizes={"oncall.alerts": 2500}) as sb:
        everything = sorted(sb.records("oncall", "alerts"), key=lambda r: r["updatedAt"])
        base = sb.base_url("oncall")
        config = sb.tap_config("oncall", max_retries=0)
        requests_mock.real_http = True  # the resumed run below talks to the sandbox
        pages = [
            {
                "json": {
                    "data": everything[start : start + 100],
                    "paging": {"next": f"{base}/v2/alerts?offset={start + 100}&limit=100"},
                }
            }
            for start in range(0, 1500, 100)
        ]
        failing = requests_mock.get(f"{base}/v2/alerts", [*pages, {"status_code": 503}])
        buffer = io.StringIO()
        with redirect_stdout(buffer), pytest.raises(RetriableAPIError):
            TapGenericRest(config=config, catalog=_only(config, "alerts")).sync_all()
        assert failing.call_count == 16
        failed = Run([json.loads(line) for line in buffer.getvalue().splitlines() if line])
        assert len(failed.records) == 1500
        bookmark = failed.bookmark("alerts")
        assert bookmark == everything[999]["updatedAt"]  # the STATE after record 1,000

        requests_mock.stop()
        resumed = sync(sb, "oncall", "alerts", failed.state, page_size=100)
        together = {r["id"] for r in failed.records} | {r["id"] for r in resumed.records}
        assert together == {r["id"] for r in everything}
        assert min(r["updatedAt"] for r in resumed.records) == bookmark


def _only(config: dict[str, Any], stream: str) -> dict[str, Any]:
    catalog = TapGenericRest(config=config, setup_mapper=False).catalog_dict
    for entry in catalog["streams"]:
        root = next(m for m in entry["metadata"] if m["breadcrumb"] == [])
        root["metadata"]["selected"] = entry["tap_stream_id"] == stream
    return catalog


def test_a_bookmark_that_is_not_a_time_is_reported_in_one_line(sb: Sandbox) -> None:
    from tap_generic_rest.errors import InputFileError

    state = {
        "bookmarks": {"alerts": {"replication_key": "updatedAt", "replication_key_value": "x"}}
    }
    with pytest.raises(InputFileError, match=r"bookmark of stream 'alerts' \(updatedAt\)"):
        sync(sb, "oncall", "alerts", state)


def test_a_replication_key_set_in_the_catalog_filters_a_full_table_stream(sb: Sandbox) -> None:
    """chat users have no API filter: a catalog key makes the tap drop what did not change."""
    users = sb.records("chat", "users")
    incremental = {"key": "_updatedAt", "method": "INCREMENTAL", "page_size": 10}
    first = sync(sb, "chat", "users", **incremental)
    assert len(first.records) == len(users)
    assert first.bookmark("users") == max(u["_updatedAt"] for u in users)
    changed = sb.mutate("chat", "users", update=[3], insert=1)
    sb.clear_requests()
    second = sync(sb, "chat", "users", first.state, **incremental)
    now = sb.records("chat", "users")
    at_bookmark = [u for u in now if u["_updatedAt"] == first.bookmark("users")]
    expected = changed["updated"] + changed["inserted"] + at_bookmark
    assert sorted(ids(second.records, "_id")) == sorted(ids(expected, "_id"))
    sent_users = [r.query for r in sb.requests if r.path == "/chat/api/v1/users.list"]
    assert sent_users
    assert all("updatedSince" not in query for query in sent_users)
