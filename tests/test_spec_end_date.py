"""``end_date``: one window read, every bookmark left as it was (a backfill beside a live run)."""

from __future__ import annotations

from typing import Any

import pytest

from tap_generic_rest.config.validate import config_errors
from tap_generic_rest.tap import TapGenericRest
from tests.dlt_oracle import tap_run
from tests.mock_api import MockApi


@pytest.fixture
def api():
    server = MockApi()
    yield server
    server.close()


def events(api: MockApi, **incremental: Any) -> dict[str, Any]:
    return {
        "client": {"base_url": f"{api.origin}/api"},
        "resources": [
            {
                "name": "events",
                "primary_key": "id",
                "endpoint": {
                    "path": "/events",
                    "paginator": {"type": "offset", "limit": 3},
                    "incremental": {"cursor_path": "updated", **incremental},
                },
            }
        ],
    }


LIVE = {
    "bookmarks": {
        "events": {"replication_key": "updated", "replication_key_value": "2024-01-10T00:00:00Z"}
    }
}


@pytest.mark.parametrize("start_param", [None, "since"])
def test_end_date_reads_the_window_and_leaves_the_live_bookmark(api, start_param):
    incremental = {"start_param": start_param} if start_param else {}
    settings = {"start_date": "2024-01-02T00:00:00Z", "end_date": "2024-01-05T00:00:00Z"}
    records, state = tap_run(events(api, **incremental), settings, state=LIVE)
    assert [r["id"] for r in records["events"]] == [2, 3, 4]
    assert state is not None
    assert state["bookmarks"]["events"]["replication_key_value"] == "2024-01-10T00:00:00Z"


def test_without_end_date_the_bookmark_moves_on(api):
    records, state = tap_run(events(api), state=LIVE)
    assert [r["id"] for r in records["events"]] == [10, 11]
    assert state["bookmarks"]["events"]["replication_key_value"] == "2024-01-11T00:00:00Z"


@pytest.mark.parametrize(
    ("settings", "fragment"),
    [
        ({"end_date": "yesterday"}, "setting 'end_date' must be an ISO 8601 date-time"),
        (
            {"start_date": "2024-02-01T00:00:00Z", "end_date": "2024-01-01T00:00:00Z"},
            "after 'start_date'",
        ),
    ],
)
def test_a_bad_end_date_is_refused_in_one_line(api, settings, fragment):
    errors = config_errors({"spec": events(api), **settings}, TapGenericRest.config_jsonschema)
    assert any(fragment in error for error in errors), errors
