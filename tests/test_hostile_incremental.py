"""Incremental data the server gets wrong (issue 22, cases 6 and 7): never a traceback.

A sorted stream (oncall ``alerts``) whose server ignores the ``updatedAt>=`` filter, or
answers out of order; a replication key whose values are of several types. Each run is
the command line in process against requests-mock, with a catalog selecting one stream.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tap_generic_rest.errors import SortOrderError
from tap_generic_rest.stream import page_loop
from tap_generic_rest.tap import TapGenericRest
from tests.helpers import run_sync
from tests.hostile import Handler, HostileServer

TAP = str(Path(sys.executable).with_name("tap-generic-rest"))
ERROR = "tap-generic-rest: error: "


def run(
    tmp_path: Path, config: dict[str, Any], stream: str, state: dict[str, Any] | None = None
) -> tuple[int, list[dict[str, Any]], str]:
    """The console script for one selected stream: exit status, messages, stderr."""
    catalog = TapGenericRest(config=config, setup_mapper=False).catalog_dict
    for entry in catalog["streams"]:
        root = next(m for m in entry["metadata"] if m["breadcrumb"] == [])
        root["metadata"]["selected"] = entry["tap_stream_id"] == stream
    files = {"config": config, "catalog": catalog, **({"state": state} if state else {})}
    args = []
    for name, content in files.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(content))
        args += [f"--{name}", str(path)]
    done = subprocess.run([TAP, *args], capture_output=True, text=True, timeout=120, check=False)
    messages = [json.loads(line) for line in done.stdout.splitlines()]
    return done.returncode, messages, done.stderr


def records(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m["record"] for m in messages if m["type"] == "RECORD"]


def last_bookmark(messages: list[dict[str, Any]], stream: str) -> Any:
    state = [m["value"] for m in messages if m["type"] == "STATE"][-1]
    return state.get("bookmarks", {}).get(stream, {}).get("replication_key_value")


def alert(day: int) -> dict[str, Any]:
    return {"id": f"a{day}", "updatedAt": f"2024-03-{day:02d}T00:00:00.000Z"}


def oncall_server(*pages: list[dict[str, Any]]) -> HostileServer:
    """Alerts in ``pages``, linked by ``paging.next``, whatever the request's filter."""

    def respond(handler: Handler) -> None:
        index = int(handler.query.get("page", ["0"])[0])
        more = index + 1 < len(pages)
        nxt = f"{handler.server.url}/v2/alerts?page={index + 1}" if more else None
        handler.send_json(200, {"data": pages[index], "paging": {"next": nxt} if nxt else {}})

    return HostileServer(respond)


def oncall(server: HostileServer) -> dict[str, Any]:
    return {
        "source": "oncall",
        "base_url": server.url,
        "api_token": "tok-4f1c9e2b",
        "max_retries": 0,
    }


def first_query(server: HostileServer) -> dict[str, list[str]]:
    return server.seen[0][1]


SINCE_3RD = {
    "bookmarks": {
        "alerts": {"replication_key": "updatedAt", "replication_key_value": alert(3)["updatedAt"]}
    }
}


# --- 6: a sorted stream whose server ignores the filter, or breaks the order -------------------


def test_records_before_the_bookmark_are_dropped_when_the_server_ignores_the_filter(
    tmp_path: Path,
) -> None:
    with oncall_server([alert(1), alert(2), alert(3)], [alert(4), alert(5)]) as server:
        code, messages, err = run(tmp_path, oncall(server), "alerts", SINCE_3RD)
    assert code == 0, err[-3000:]
    assert [r["id"] for r in records(messages)] == ["a3", "a4", "a5"]
    assert last_bookmark(messages, "alerts") == alert(5)["updatedAt"]
    (warning,) = [line for line in err.splitlines() if "changed before the bookmark" in line]
    assert "stream 'alerts'" in warning
    assert "2 records" in warning
    assert first_query(server)["query"] == ["updatedAt>=1709424000000"]


@pytest.mark.parametrize("state", [SINCE_3RD, None], ids=["with-bookmark", "first-run"])
def test_pages_out_of_order_fail_in_one_line_and_state_keeps_the_start(
    tmp_path: Path, state: Any
) -> None:
    with oncall_server([alert(8), alert(9)], [alert(4), alert(10)]) as server:
        code, messages, err = run(tmp_path, oncall(server), "alerts", state)
    assert code == 1
    line = err.splitlines()[-1]
    assert line.startswith(ERROR), err[-3000:]
    assert "Traceback" not in err
    assert "stream 'alerts'" in line
    assert "'updatedAt'" in line
    assert "out of order" in line
    start = None if state is None else alert(3)["updatedAt"]
    assert last_bookmark(messages, "alerts") == start  # nothing the server still owes is passed
    assert [r["id"] for r in records(messages)][:2] == ["a8", "a9"]


# --- 7: a replication key of mixed types --------------------------------------------------------

MIXED = [1700000000, "2024-01-01T00:00:00Z", None, 1700000000.5, True, "x", 1700000100, 1699]


@pytest.mark.parametrize("state", [None, 1600000000], ids=["first-run", "with-bookmark"])
def test_a_key_of_mixed_types_emits_every_record_and_advances_by_comparable_values(
    tmp_path: Path, state: Any
) -> None:
    page = [{"id": f"c{i}", "updated_at": value} for i, value in enumerate(MIXED)]

    def respond(handler: Handler) -> None:
        first = handler.query.get("offset", ["0"])[0] == "0"
        handler.send_json(200, {"data": page if first else []})

    server = HostileServer(respond)
    bookmark = None
    if state is not None:
        bookmark = {
            "bookmarks": {
                "companies": {"replication_key": "updated_at", "replication_key_value": state}
            }
        }
    with server:
        config = {"source": "helpdesk", "base_url": server.url, "api_key": "key-83bd02fa"}
        code, messages, err = run(tmp_path, config, "companies", bookmark)
    assert code == 0, err[-3000:]
    emitted = [r["id"] for r in records(messages)]
    expected = [f"c{i}" for i in range(len(MIXED))]
    if state is not None:
        expected.remove("c7")  # 1699 s is before the bookmark: dropped by the filter
    assert emitted == expected
    assert last_bookmark(messages, "companies") == 1700000100
    (warning,) = [line for line in err.splitlines() if "do not compare" in line]
    assert "stream 'companies'" in warning
    assert "'updated_at'" in warning
    assert "boolean and string" in warning


def test_a_sorted_stream_with_mixed_key_types_advances_by_its_strings(tmp_path: Path) -> None:
    page = [
        alert(1),
        {"id": "n1", "updatedAt": 1709251200000},
        alert(2),
        {"id": "b", "updatedAt": False},
    ]
    with oncall_server(page) as server:
        code, messages, err = run(tmp_path, oncall(server), "alerts")
    assert code == 0, err[-3000:]
    assert [r["id"] for r in records(messages)] == ["a1", "n1", "a2", "b"]
    assert last_bookmark(messages, "alerts") == alert(2)["updatedAt"]
    assert "boolean and number" in err


def test_a_page_whose_keys_are_all_of_another_kind_leaves_the_bookmark(tmp_path: Path) -> None:
    """A whole page of booleans in a string key: emitted, and the bookmark stays."""
    pages = [[alert(1)], [{"id": f"b{i}", "updatedAt": True} for i in range(3)], [alert(2)]]
    with oncall_server(*pages) as server:
        code, messages, err = run(tmp_path, oncall(server), "alerts")
    assert code == 0, err[-3000:]
    assert len(records(messages)) == 5
    assert last_bookmark(messages, "alerts") == alert(2)["updatedAt"]


def test_an_iso_bookmark_of_an_epoch_key_still_advances_by_the_numbers(tmp_path: Path) -> None:
    """helpdesk's updated_at is unix seconds; a bookmark written by hand as ISO 8601 is a time
    too: the run filters by it, and the new bookmark is the largest number."""
    page = [{"id": f"c{i}", "updated_at": 1700000000 + i} for i in range(5)]

    def respond(handler: Handler) -> None:
        first = handler.query.get("offset", ["0"])[0] == "0"
        handler.send_json(200, {"data": page if first else []})

    state = {
        "bookmarks": {
            "companies": {
                "replication_key": "updated_at",
                "replication_key_value": "2023-11-14T22:13:22Z",  # 1700000002
            }
        }
    }
    with HostileServer(respond) as server:
        config = {"source": "helpdesk", "base_url": server.url, "api_key": "key-83bd02fa"}
        code, messages, err = run(tmp_path, config, "companies", state)
    assert code == 0, err[-3000:]
    assert [r["id"] for r in records(messages)] == ["c2", "c3", "c4"]
    assert last_bookmark(messages, "companies") == 1700000004
    assert "do not compare" not in err


# --- times in several forms: compared as times, never as text ----------------------------------

#: Values in time order whose text order differs: fractions that trim zeros, mixed offsets.
IN_TIME_ORDER = {
    "trimmed fractions": [
        ["2024-03-01T00:00:00.3Z"],
        ["2024-03-01T00:00:00.34Z", "2024-03-01T00:00:01Z"],
    ],
    "mixed offsets": [
        ["2024-03-01T01:00:00+01:00", "2024-03-01T00:30:00Z"],
        ["2024-03-01T00:45:00.5Z", "2024-03-01T02:00:00+01:00"],
    ],
}
PATHS = ["by page", "by record"]


@pytest.fixture(params=PATHS)
def record_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The page loop (a page's bookmark at once), or the SDK's record loop (record by record)."""
    if request.param == "by record":
        monkeypatch.setattr(page_loop, "obstacle", lambda stream: "turned off by the test")
    return str(request.param)


def alerts(pages: list[list[str]]) -> list[list[dict[str, Any]]]:
    return [[{"id": value, "updatedAt": value} for value in page] for page in pages]


@pytest.mark.parametrize("pages", IN_TIME_ORDER.values(), ids=IN_TIME_ORDER.keys())
def test_a_sorted_stream_in_time_order_is_in_order_whatever_the_form(
    record_path: str, pages: list[list[str]]
) -> None:
    with oncall_server(*alerts(pages)) as server:
        messages = run_sync(oncall(server), streams=["alerts"])
    assert [r["id"] for r in records(messages)] == [value for page in pages for value in page]
    assert last_bookmark(messages, "alerts") == pages[-1][-1]


def test_a_sorted_stream_out_of_time_order_fails_though_its_text_is_in_order(
    record_path: str,
) -> None:
    """23:00Z after 00:30Z (written ``01:00+02:00``): the text climbs, the time goes back."""
    pages = [["2024-03-01T00:30:00Z"], ["2024-03-01T01:00:00+02:00"]]
    with oncall_server(*alerts(pages)) as server, pytest.raises(SortOrderError, match="order"):
        run_sync(oncall(server), streams=["alerts"])


@pytest.mark.parametrize(
    ("values", "latest"),
    [
        (["2024-03-01T00:00:00.34Z", "2024-03-01T00:00:00.3Z"], "2024-03-01T00:00:00.34Z"),
        (["2024-03-01T00:00:00Z", "2024-03-01T01:30:00+02:00"], "2024-03-01T00:00:00Z"),
        (["2024-03-01T00:00:00+00:00", "2024-03-01T00:00:01Z"], "2024-03-01T00:00:01Z"),
    ],
    ids=["trimmed fractions", "an offset behind", "one instant in two forms"],
)
def test_an_unsorted_streams_bookmark_is_its_latest_time(
    record_path: str, values: list[str], latest: str
) -> None:
    rows = [{"id": i, "updated": value} for i, value in enumerate(values)]

    def respond(handler: Handler) -> None:
        handler.send_json(200, {"data": rows})

    resource = {
        "name": "events",
        "primary_key": "id",
        "write_disposition": "merge",
        "endpoint": {
            "path": "/events",
            "data_selector": "data",
            "paginator": "single_page",
            "incremental": {"cursor_path": "updated"},
        },
    }
    with HostileServer(respond) as server:
        spec = {"client": {"base_url": server.url}, "resources": [resource]}
        messages = run_sync({"spec": spec, "max_retries": 0})
    assert len(records(messages)) == len(values)
    assert last_bookmark(messages, "events") == latest
