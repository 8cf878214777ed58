"""The chat source end to end against requests-mock: paging, headers, selection."""

from __future__ import annotations

from typing import Any

import pytest

from tap_generic_rest.tap import TapGenericRest
from tests.helpers import records_by_stream, run_sync

BASE = "https://chat.example.com/api/v1"
CONFIG = {"source": "chat", "base_url": BASE, "api_token": "tok-123", "user_id": "uid-456"}

PAGED = {"teams": "/teams.list", "channels": "/channels.list", "users": "/users.list"}
ONE_PAGE = {
    "rooms": ("/rooms.get", "update"),
    "roles": ("/roles.list", "roles"),
    "subscriptions": ("/subscriptions.get", "update"),
}
SIZES = {"teams": 3, "channels": 4, "users": 5, "rooms": 2, "roles": 3, "subscriptions": 2}


def make_rows(stream: str, count: int) -> list[dict[str, Any]]:
    return [
        {
            "_id": f"{stream}-{i}",
            "name": f"{stream} nº{i}",
            "_updatedAt": "2023-02-20T22:10:12.733Z",
        }
        for i in range(count)
    ]


@pytest.fixture
def chat_api(requests_mock):
    """A Rocket.Chat-like API: offset/count paging with a total, one-page endpoints."""
    data = {stream: make_rows(stream, count) for stream, count in SIZES.items()}

    def paged(stream):
        def respond(request, context):
            offset = int(request.qs.get("offset", ["0"])[0])
            count = int(request.qs.get("count", ["25"])[0])
            page = data[stream][offset : offset + count]
            return {
                stream: page,
                "count": len(page),
                "offset": offset,
                "total": len(data[stream]),
                "success": True,
            }

        return respond

    for stream, path in PAGED.items():
        requests_mock.get(BASE + path, json=paged(stream))
    for stream, (path, key) in ONE_PAGE.items():
        body = {key: data[stream], "success": True}
        if key == "update":
            body["remove"] = []
        requests_mock.get(BASE + path, json=body)
    return data


def test_discover_lists_six_streams_with_key_properties():
    catalog = TapGenericRest(config=CONFIG).catalog_dict
    streams = {entry["tap_stream_id"]: entry for entry in catalog["streams"]}
    assert set(streams) == set(SIZES)
    for entry in streams.values():
        assert list(entry["key_properties"]) == ["_id"]
        assert entry["schema"]["properties"]["_id"]["type"] == "string"
    assert streams["teams"]["schema"]["properties"]["numberOfUsers"]["type"] == ["integer", "null"]
    assert streams["rooms"]["schema"]["properties"]["broadcast"]["type"] == ["boolean", "null"]


def test_full_sync_every_record_once_in_order(chat_api, requests_mock):
    records = records_by_stream(run_sync(CONFIG))
    assert {stream: [r["_id"] for r in rows] for stream, rows in records.items()} == {
        stream: [r["_id"] for r in rows] for stream, rows in chat_api.items()
    }
    # Seed page size 1: one request per record, plus the final short/total check.
    users = [r for r in requests_mock.request_history if r.path.endswith("/users.list")]
    assert [(r.qs["offset"], r.qs["count"]) for r in users] == [
        ([str(i)], ["1"]) for i in range(SIZES["users"])
    ]
    for request in requests_mock.request_history:
        assert request.headers["X-Auth-Token"] == "tok-123"
        assert request.headers["X-User-Id"] == "uid-456"
        assert request.headers["User-Agent"].startswith("tap-generic-rest/")


def test_page_size_setting_overrides_the_seed(chat_api, requests_mock):
    records = records_by_stream(run_sync({**CONFIG, "page_size": 2}, streams=["users"]))
    assert [r["_id"] for r in records["users"]] == [r["_id"] for r in chat_api["users"]]
    offsets = [r.qs["offset"][0] for r in requests_mock.request_history]
    assert offsets == ["0", "2", "4"]
    assert {r.qs["count"][0] for r in requests_mock.request_history} == {"2"}


def test_one_page_streams_send_no_paging_params(chat_api, requests_mock):
    run_sync(CONFIG, streams=["rooms", "roles", "subscriptions"])
    assert sorted(r.path for r in requests_mock.request_history) == [
        "/api/v1/roles.list",
        "/api/v1/rooms.get",
        "/api/v1/subscriptions.get",
    ]
    assert all(r.query == "" for r in requests_mock.request_history)


def test_deselected_streams_are_never_requested(chat_api, requests_mock):
    records = records_by_stream(run_sync(CONFIG, streams=["roles"]))
    assert set(records) == {"roles"}
    assert {r.path for r in requests_mock.request_history} == {"/api/v1/roles.list"}


def test_schema_messages_carry_key_properties(chat_api):
    messages = run_sync(CONFIG, streams=["users"])
    schema = next(m for m in messages if m["type"] == "SCHEMA")
    assert schema["stream"] == "users"
    assert schema["key_properties"] == ["_id"]


def test_unauthorized_fails_at_once_naming_the_settings(requests_mock):
    requests_mock.get(
        BASE + "/roles.list",
        status_code=401,
        json={"status": "error", "message": "You must be logged in to do this."},
    )
    with pytest.raises(Exception, match=r"check the settings api_token, user_id") as error:
        run_sync(CONFIG, streams=["roles"])
    assert "401" in str(error.value)
    assert requests_mock.call_count == 1


@pytest.mark.usefixtures("pages_ahead_as_configured")
def test_server_capping_count_below_page_size_loses_nothing(requests_mock):
    """Regression: a page capped by the server (count 100 < page_size 150) is short but not last.

    The stop rule used to end the stream on the first capped page and drop 150 of 250 users.
    """
    users = make_rows("users", 250)

    def respond(request, context):
        offset = int(request.qs["offset"][0])
        count = min(int(request.qs["count"][0]), 100)
        page = users[offset : offset + count]
        return {"users": page, "count": len(page), "offset": offset, "total": 250, "success": True}

    requests_mock.get(BASE + "/users.list", json=respond)
    for concurrency in (1, 4):
        config = {**CONFIG, "page_size": 150, "max_concurrent_requests": concurrency}
        records = records_by_stream(run_sync(config, streams=["users"]))
        assert [r["_id"] for r in records["users"]] == [r["_id"] for r in users]
