"""One window per run: what a spec stream's request asks for is what its filter keeps.

The window (start with dlt's ``lag`` and ``lookback_seconds``, end with dlt's ``end_value``
or ``end_date``) is decided once, by ``IncrementalStream.read_window``; these tests send a
server that ignores every filter, so the records emitted show the filter's window and the
request's parameters show the request's.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tap_generic_rest.errors import InputFileError
from tests.dlt_oracle import tap_run

if TYPE_CHECKING:
    from collections.abc import Iterator


class Unfiltered:
    """A server on 127.0.0.1 that answers every request with the same records."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.queries: list[dict[str, str]] = []
        queries, body = self.queries, json.dumps({"data": rows}).encode()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                queries.append({k: v[0] for k, v in query.items()})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.origin = f"http://127.0.0.1:{self.server.server_port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


DAYS = [{"id": d, "updated": f"2024-01-{d:02d}T00:00:00Z"} for d in range(1, 13)]


@pytest.fixture
def days() -> Iterator[Unfiltered]:
    server = Unfiltered(DAYS)
    yield server
    server.close()


def spec(api: Unfiltered, key: str = "updated", **incremental: Any) -> dict[str, Any]:
    return {
        "client": {"base_url": api.origin},
        "resources": [
            {
                "name": "events",
                "primary_key": "id",
                "write_disposition": "merge",
                "endpoint": {
                    "path": "/events",
                    "data_selector": "data",
                    "paginator": "single_page",
                    "incremental": {"cursor_path": key, **incremental},
                },
            }
        ],
    }


def bookmark(value: Any, key: str = "updated") -> dict[str, Any]:
    return {"bookmarks": {"events": {"replication_key": key, "replication_key_value": value}}}


def ids(records: dict[str, list[Any]]) -> list[int]:
    return [record["id"] for record in records.get("events", [])]


# --- 1: lookback_seconds ----------------------------------------------------------------


@pytest.mark.parametrize("start_param", [None, "since"])
def test_lookback_reads_again_before_the_bookmark_and_the_bookmark_stays(days, start_param):
    incremental = {"start_param": start_param} if start_param else {}
    records, state = tap_run(
        spec(days, **incremental),
        {"lookback_seconds": 2 * 86400},
        state=bookmark("2024-01-05T00:00:00Z"),
    )
    assert ids(records) == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    if start_param:
        assert days.queries[-1]["since"].startswith("2024-01-03T00:00:00")
    assert state is not None
    assert state["bookmarks"]["events"]["replication_key_value"] == "2024-01-12T00:00:00Z"


# --- 2: dlt's lag -----------------------------------------------------------------------


@pytest.mark.parametrize("start_param", [None, "since"])
def test_lag_keeps_what_the_lagged_request_asked_for(days, start_param):
    incremental: dict[str, Any] = {"lag": 3 * 86400}
    if start_param:
        incremental["start_param"] = start_param
    records, _ = tap_run(spec(days, **incremental), state=bookmark("2024-01-05T00:00:00Z"))
    assert ids(records) == list(range(2, 13))
    if start_param:
        assert days.queries[-1]["since"].startswith("2024-01-02T00:00:00")


def test_lag_on_a_number_cursor_is_in_its_units() -> None:
    server = Unfiltered([{"id": n, "seq": 100 + n} for n in range(1, 8)])
    try:
        records, _ = tap_run(
            spec(server, key="seq", lag=3, start_param="after"), state=bookmark(105, "seq")
        )
    finally:
        server.close()
    assert server.queries[-1]["after"] == "102"
    assert ids(records) == [2, 3, 4, 5, 6, 7]


# --- 3: dlt's end_value wins over start_date / end_date, in the filter as in the request ----

WINDOW = {"initial_value": "2024-01-02T00:00:00Z", "end_value": "2024-01-10T00:00:00Z"}


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"start_date": "2024-01-05T00:00:00Z"},
        {"end_date": "2024-01-04T00:00:00Z"},
        {"start_date": "2024-01-05T00:00:00Z", "end_date": "2024-01-07T00:00:00Z"},
    ],
)
def test_end_value_window_wins_over_the_settings(days, settings):
    incremental = {**WINDOW, "start_param": "since", "end_param": "until"}
    records, _ = tap_run(spec(days, **incremental), settings)
    assert days.queries[-1] == {"since": "2024-01-02T00:00:00Z", "until": "2024-01-10T00:00:00Z"}
    assert ids(records) == list(range(2, 10))


# --- 4: cursors that are not times ------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "initial", "sent"),
    [
        (["k1", "k2", "k3"], "k0", "k3"),
        ([300000000001, 300000000002, 300000000003], 1, "300000000003"),
        ([1700000000001, 1700000000002, 1700000000003], 0, "1700000000003"),
    ],
    ids=["strings", "big-ids", "epoch-ms"],
)
def test_a_cursor_that_is_not_a_time_resumes_from_its_own_state(values, initial, sent):
    server = Unfiltered([{"id": n, "seq": v} for n, v in enumerate(values, 1)])
    try:
        config = spec(server, key="seq", initial_value=initial, start_param="after")
        first, state = tap_run(config)
        assert ids(first) == [1, 2, 3]
        assert state is not None
        assert state["bookmarks"]["events"]["replication_key_value"] == values[-1]
        second, again = tap_run(config, {"start_date": "2024-01-01T00:00:00Z"}, state=state)
    finally:
        server.close()
    assert server.queries[-1]["after"] == sent
    assert ids(second) == [3]  # the filter compares the cursor as itself (>=)
    assert again is not None
    assert again["bookmarks"]["events"]["replication_key_value"] == values[-1]


def test_a_bookmark_that_does_not_compare_with_any_cursor_is_refused(days):
    with pytest.raises(InputFileError, match=r"stream 'events' \(updated\)"):
        tap_run(spec(days), state=bookmark({"at": 1}))


def test_a_built_in_time_key_still_refuses_a_bookmark_that_is_not_a_time():
    from tests.helpers import run_sync

    state = bookmark(1_700_000_000_000_000, "updatedAt")
    state["bookmarks"] = {"alerts": state["bookmarks"]["events"]}
    with pytest.raises(InputFileError, match="not a time"):
        run_sync(
            {"source": "oncall", "api_token": "k", "base_url": "http://127.0.0.1:9"}, state=state
        )


# --- 5: a bounded window reads exactly its bounds ---------------------------------------


@pytest.mark.parametrize("start_param", [None, "since"])
def test_lookback_does_not_widen_a_bounded_window(days, start_param):
    incremental = {"start_param": start_param} if start_param else {}
    settings = {
        "start_date": "2024-01-04T00:00:00Z",
        "end_date": "2024-01-05T00:00:00Z",
        "lookback_seconds": 3 * 86400,
    }
    records, _ = tap_run(
        spec(days, **incremental), settings, state=bookmark("2024-01-09T00:00:00Z")
    )
    assert ids(records) == [4]
    if start_param:
        assert days.queries[-1]["since"] == "2024-01-04T00:00:00Z"


def test_lookback_does_not_widen_a_built_in_bounded_window():
    from tap_generic_rest.tap import TapGenericRest

    config = {
        "source": "oncall",
        "api_token": "k",
        "base_url": "http://127.0.0.1:9",
        "start_date": "2024-01-04T00:00:00Z",
        "end_date": "2024-01-05T00:00:00Z",
        "lookback_seconds": 86400,
    }
    stream = TapGenericRest(config=config).streams["alerts"]
    window = stream.read_window(None)
    assert window is not None
    assert window.since == window.start
    assert window.since.isoformat() == "2024-01-04T00:00:00+00:00"
