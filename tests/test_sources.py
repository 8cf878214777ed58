"""The five sources against fake APIs that answer like the real ones (requests-mock).

Each fake pages the way its real API does (envelopes and parameters from
SOURCES.md); the tests check every record arrives once and in order, and that
every request carried the right path, parameters and credentials.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import pytest
from requests_mock import ANY
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

from tap_generic_rest.__main__ import main
from tap_generic_rest.errors import ForeignHostError, PaginationError
from tap_generic_rest.redact import REDACTOR
from tap_generic_rest.sources import get_source
from tap_generic_rest.tap import TapGenericRest
from tests.helpers import records_by_stream, run_sync

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from requests_mock import Mocker

BASE = "https://api.example.com"
SECRETS = {
    "api_token": "tok-7c1e9a2f",
    "user_id": "uid-5b3d8e04",
    "api_key": "key-2f6a0c9d",
    "email": "ann@example.com",
}
CONFIGS: dict[str, dict[str, Any]] = {
    "chat": {
        "source": "chat",
        "base_url": f"{BASE}/api/v1",
        "api_token": SECRETS["api_token"],
        "user_id": SECRETS["user_id"],
    },
    "helpdesk": {"source": "helpdesk", "base_url": BASE, "api_key": SECRETS["api_key"]},
    "tracker": {
        "source": "tracker",
        "base_url": BASE,
        "email": SECRETS["email"],
        "api_token": SECRETS["api_token"],
    },
    "statuspage": {"source": "statuspage", "base_url": BASE, "api_key": SECRETS["api_key"]},
    "oncall": {"source": "oncall", "base_url": BASE, "api_token": SECRETS["api_token"]},
}
BASIC = "Basic " + base64.b64encode(f"{SECRETS['email']}:{SECRETS['api_token']}".encode()).decode(
    "ascii"
)

# Per stream: (path, one declared field besides the key), as the real APIs name them.
HELPDESK = {
    "conversations": ("/v1/conversations", "state"),
    "contacts": ("/v1/contacts", "email"),
    "conversation_parts": ("/v1/conversation_parts", "body"),
    "teams": ("/v1/teams", "name"),
    "companies": ("/v1/companies", "name"),
}
STATUSPAGE = {
    "pages": ("/v1/resource", "name"),
    "subscribers": ("/v1/resource/subscribers", "email"),
}
ONCALL = {
    "users": ("/v2/users", "username"),
    "teams": ("/v2/teams", "name"),
    "services": ("/v1/services", "name"),
    "integrations": ("/v2/integrations", "name"),
    "incidents": ("/v1/incidents", "message"),
    "alerts": ("/v2/alerts", "message"),
}


@pytest.fixture(autouse=True)
def _fresh_redactor() -> None:
    """Forget secrets other tests registered: a short one would mask words in our messages."""
    REDACTOR.clear()


def config(source: str, **overrides: Any) -> dict[str, Any]:
    return {**CONFIGS[source], **overrides}


def make_records(stream: str, field: str, count: int) -> list[dict[str, Any]]:
    return [{"id": f"{stream}-{i:04d}", field: f"{field} {i}"} for i in range(count)]


def query(request: Any) -> dict[str, list[str]]:
    """The query of a request, values as sent (requests-mock's ``qs`` lower-cases them)."""
    return parse_qs(urlsplit(request.url).query, keep_blank_values=True)


def ids(records: list[dict[str, Any]]) -> list[Any]:
    return [record.get("id", record.get("key")) for record in records]


def assert_no_secret(messages: list[dict[str, Any]]) -> None:
    text = json.dumps(messages)
    for secret in (*SECRETS.values(), BASIC.split()[1]):
        assert secret not in text


# --- fake APIs -----------------------------------------------------------------


def offset_api(
    records: list[dict[str, Any]], envelope: Callable[[list[Any]], dict[str, Any]]
) -> Callable[[Any, Any], dict[str, Any]]:
    """``offset``/``limit`` paging with no total (helpdesk, statuspage)."""

    def respond(request: Any, context: Any) -> dict[str, Any]:
        params = query(request)
        start, limit = int(params["offset"][0]), int(params["limit"][0])
        return envelope(records[start : start + limit])

    return respond


def board_api(
    boards: list[dict[str, Any]], cap: int | None, *, with_total: bool
) -> Callable[[Any, Any], dict[str, Any]]:
    """Jira's ``startAt``/``maxResults`` paging; the server may cap ``maxResults``."""

    def respond(request: Any, context: Any) -> dict[str, Any]:
        params = query(request)
        start, asked = int(params["startAt"][0]), int(params["maxResults"][0])
        limit = min(asked, cap) if cap else asked
        page = boards[start : start + limit]
        body: dict[str, Any] = {"maxResults": limit, "startAt": start, "values": page}
        if with_total:
            body |= {"total": len(boards), "isLast": start + len(page) >= len(boards)}
        return body

    return respond


def next_url_api(
    path: str, records: list[dict[str, Any]], default_limit: int = 20
) -> Callable[[Any, Any], dict[str, Any]]:
    """Opsgenie's paging: ``paging.next`` is a full URL with its own query string."""

    def respond(request: Any, context: Any) -> dict[str, Any]:
        params = query(request)
        start = int(params.get("offset", ["0"])[0])
        limit = int(params.get("limit", [str(default_limit)])[0])
        paging = {"first": f"{BASE}{path}?offset=0&limit={limit}&sort=createdAt&order=desc"}
        if start + limit < len(records):
            paging["next"] = (
                f"{BASE}{path}?offset={start + limit}&limit={limit}&sort=createdAt&order=desc"
            )
        return {
            "data": records[start : start + limit],
            "took": 0.01,
            "requestId": f"req-{start}",
            "paging": paging,
        }

    return respond


# --- discovery -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (
            "chat",
            {
                "teams": ["_id"],
                "rooms": ["_id"],
                "channels": ["_id"],
                "roles": ["_id"],
                "subscriptions": ["_id"],
                "users": ["_id"],
            },
        ),
        ("helpdesk", {stream: ["id"] for stream in HELPDESK}),
        ("tracker", {"application_roles": ["key"], "avatars": ["id"], "boards": ["id"]}),
        ("statuspage", {stream: ["id"] for stream in STATUSPAGE}),
        ("oncall", {stream: ["id"] for stream in ONCALL}),
    ],
)
def test_discover_lists_the_source_streams_and_keys(
    source: str, expected: dict[str, list[str]]
) -> None:
    catalog = TapGenericRest(config=config(source), setup_mapper=False).catalog_dict
    found = {entry["tap_stream_id"]: list(entry["key_properties"]) for entry in catalog["streams"]}
    assert found == expected


def test_tracker_avatar_types_setting_is_declared_with_its_default() -> None:
    setting = TapGenericRest.config_jsonschema["properties"]["avatar_types"]
    assert setting["default"] == ["issuetype", "project", "user"]
    assert setting["title"]
    assert setting["description"]


# --- helpdesk --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "page_size", "expected_offsets"),
    [
        (250, None, [0, 100, 200]),  # the seed's page size; the short page ends the stream
        (200, None, [0, 100, 200]),  # an exact multiple ends on the empty page
        (7, 3, [0, 3, 6]),
        (6, 3, [0, 3, 6]),
    ],
)
def test_helpdesk_pages_every_stream_with_the_key_in_the_query(
    requests_mock: Mocker, count: int, page_size: int | None, expected_offsets: list[int]
) -> None:
    expected = {}
    for stream, (path, field) in HELPDESK.items():
        expected[stream] = make_records(stream, field, count)
        requests_mock.get(
            f"{BASE}{path}",
            json=offset_api(expected[stream], lambda page: {"type": "list", "data": page}),
        )

    messages = run_sync(
        # One page at a time: this asserts the exact request sequence (test_prefetch.py
        # covers pages fetched ahead, which may go past the end of a stream with no total).
        config("helpdesk", page_size=page_size, max_concurrent_requests=1)
        if page_size
        else config("helpdesk", max_concurrent_requests=1)
    )

    got = records_by_stream(messages)
    assert {stream: ids(got[stream]) for stream in got} == {
        stream: ids(records) for stream, records in expected.items()
    }
    limit = str(page_size or 100)
    for stream, (path, _) in HELPDESK.items():
        sent = [r for r in requests_mock.request_history if r.path == path]
        assert [query(r) for r in sent] == [
            {"offset": [str(o)], "limit": [limit], "api_key": [SECRETS["api_key"]]}
            for o in expected_offsets
        ], stream
        assert all("Authorization" not in r.headers for r in sent)
    assert_no_secret(messages)


def test_helpdesk_retried_request_still_carries_the_key_once(requests_mock: Mocker) -> None:
    records = make_records("teams", "name", 2)
    requests_mock.get(
        f"{BASE}/v1/teams",
        [
            {"status_code": 429, "headers": {"Retry-After": "0"}, "json": {"errors": []}},
            {"json": {"type": "list", "data": records}},
        ],
    )
    requests_mock.get(f"{BASE}/v1/teams?offset=2", json={"type": "list", "data": []})

    got = records_by_stream(run_sync(CONFIGS["helpdesk"], streams=["teams"]))

    assert ids(got["teams"]) == ids(records)
    assert [query(r)["api_key"] for r in requests_mock.request_history] == [
        [SECRETS["api_key"]]
    ] * 3


def test_helpdesk_reset_header_is_read_as_epoch_seconds() -> None:
    policy = get_source("helpdesk").retry
    assert policy.wait(1, {"X-RateLimit-Reset": "1700000012"}, 300.0, now=1_700_000_000.0) == (
        12.0,
        "X-RateLimit-Reset",
    )
    assert policy.wait(3, {}, 300.0) == (8.0, "exponential backoff")


# --- tracker ---------------------------------------------------------------------


def boards(count: int) -> list[dict[str, Any]]:
    return [
        {"id": 84 + i, "self": f"{BASE}/v1/board/{84 + i}", "name": f"board {i}", "type": "scrum"}
        for i in range(count)
    ]


@pytest.mark.parametrize(
    ("count", "cap", "with_total", "expected_starts"),
    [
        (120, None, True, [0, 50, 100]),
        (45, 20, True, [0, 20, 40]),  # the server caps maxResults at 20
        (40, 20, True, [0, 20]),  # isLast / total end it without an empty page
        (45, 20, False, [0, 20, 40]),  # no total, no isLast: the short page ends it
    ],
)
def test_tracker_boards_page_with_start_at_and_read_back_max_results(
    requests_mock: Mocker,
    count: int,
    cap: int | None,
    with_total: bool,
    expected_starts: list[int],
) -> None:
    expected = boards(count)
    requests_mock.get(f"{BASE}/v1/board", json=board_api(expected, cap, with_total=with_total))

    messages = run_sync(config("tracker", max_concurrent_requests=1), streams=["boards"])

    assert ids(records_by_stream(messages)["boards"]) == ids(expected)
    assert [query(r) for r in requests_mock.request_history] == [
        {"startAt": [str(s)], "maxResults": ["50"]} for s in expected_starts
    ]
    assert all(r.headers["Authorization"] == BASIC for r in requests_mock.request_history)
    assert_no_secret(messages)


AVATAR_COUNTS = {"issuetype": 1, "project": 2, "user": 3, "group": 4}


def avatar_body(avatar_type: str, count: int) -> dict[str, Any]:
    return {
        "system": [
            {
                "id": f"{10300 + i}",
                "isSystemAvatar": True,
                "isSelected": False,
                "isDeletable": False,
                "fileName": f"{avatar_type}-{i}.svg",
                "urls": {"16x16": f"{BASE}/avatar/{avatar_type}/{i}?size=xsmall"},
            }
            for i in range(count)
        ]
    }


@pytest.mark.parametrize(
    ("avatar_types", "expected_types"),
    [
        (None, ["issuetype", "project", "user"]),
        (["project", "group"], ["project", "group"]),
    ],
)
def test_tracker_avatars_one_request_per_type_each_record_carries_it(
    requests_mock: Mocker, avatar_types: list[str] | None, expected_types: list[str]
) -> None:
    for avatar_type, count in AVATAR_COUNTS.items():
        requests_mock.get(
            f"{BASE}/v1/avatar/{avatar_type}/system", json=avatar_body(avatar_type, count)
        )
    settings = {"avatar_types": avatar_types} if avatar_types else {}

    messages = run_sync(config("tracker", **settings), streams=["avatars"])

    records = records_by_stream(messages)["avatars"]
    assert [r.path for r in requests_mock.request_history] == [
        f"/v1/avatar/{t}/system" for t in expected_types
    ]
    assert all(not query(r) for r in requests_mock.request_history)
    expected = [(t, f"{t}-{i}.svg") for t in expected_types for i in range(AVATAR_COUNTS[t])]
    assert [(r["avatar_type"], r["fileName"]) for r in records] == expected
    assert all(r.headers["Authorization"] == BASIC for r in requests_mock.request_history)


def test_tracker_application_roles_one_page_keyed_by_key(requests_mock: Mocker) -> None:
    roles = [
        {"key": "jira-software", "name": "Jira Software", "groups": ["jira-software-users"]},
        {"key": "jira-servicedesk", "name": "Jira Service Management", "groups": []},
    ]
    requests_mock.get(f"{BASE}/v1/applicationrole", json={"data": roles})

    messages = run_sync(CONFIGS["tracker"], streams=["application_roles"])

    assert records_by_stream(messages)["application_roles"] == roles
    assert requests_mock.call_count == 1
    assert not query(requests_mock.last_request)


def test_tracker_retries_400_but_not_404(requests_mock: Mocker) -> None:
    fast = config("tracker", max_wait_seconds=0.001)
    requests_mock.get(
        f"{BASE}/v1/board",
        [
            {"status_code": 400, "json": {"errorMessages": ["try again"]}},
            {
                "json": {
                    "maxResults": 50,
                    "startAt": 0,
                    "total": 1,
                    "isLast": True,
                    "values": boards(1),
                }
            },
        ],
    )
    assert ids(records_by_stream(run_sync(fast, streams=["boards"]))["boards"]) == [84]
    assert requests_mock.call_count == 2

    requests_mock.reset()
    requests_mock.get(f"{BASE}/v1/board", status_code=404, json={"errorMessages": ["gone"]})
    with pytest.raises(FatalAPIError, match="404"):
        run_sync(fast, streams=["boards"])
    assert requests_mock.call_count == 1


def test_tracker_gives_up_after_ten_retries(requests_mock: Mocker) -> None:
    requests_mock.get(f"{BASE}/v1/applicationrole", status_code=400, json={})
    with pytest.raises(RetriableAPIError):
        run_sync(config("tracker", max_wait_seconds=0.001), streams=["application_roles"])
    assert requests_mock.call_count == 11


# --- statuspage ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "header", "value"),
    [
        ({}, "api_key", SECRETS["api_key"]),
        (
            {"auth_header": "Authorization", "auth_scheme": "OAuth"},
            "Authorization",
            f"OAuth {SECRETS['api_key']}",
        ),
    ],
)
def test_statuspage_pages_every_stream_with_the_key_in_a_header(
    requests_mock: Mocker, settings: dict[str, str], header: str, value: str
) -> None:
    expected = {}
    for stream, (path, field) in STATUSPAGE.items():
        expected[stream] = make_records(stream, field, 5)
        requests_mock.get(f"{BASE}{path}", json=offset_api(expected[stream], lambda p: {"data": p}))

    messages = run_sync(config("statuspage", page_size=2, max_concurrent_requests=1, **settings))

    got = records_by_stream(messages)
    assert {s: ids(got[s]) for s in got} == {s: ids(r) for s, r in expected.items()}
    for stream, (path, _) in STATUSPAGE.items():
        sent = [r for r in requests_mock.request_history if r.path == path]
        assert [query(r) for r in sent] == [
            {"offset": [str(o)], "limit": ["2"]} for o in (0, 2, 4)
        ], stream
    for request in requests_mock.request_history:
        assert request.headers[header] == value
        other = "Authorization" if header == "api_key" else "api_key"
        assert other not in request.headers
    assert_no_secret(messages)


def test_statuspage_retries_420_and_429_only_with_a_constant_wait(
    requests_mock: Mocker,
) -> None:
    policy = get_source("statuspage").retry
    assert [policy.wait(n, {}, 300.0)[0] for n in (1, 2, 3)] == [62.0, 62.0, 62.0]

    fast = config("statuspage", max_wait_seconds=0.001)
    requests_mock.get(
        f"{BASE}/v1/resource",
        [
            {"status_code": 420, "json": {"error": "Enhance your calm"}},
            {"status_code": 429, "json": {"error": "rate limited"}},
            {"json": {"data": make_records("pages", "name", 1)}},
        ],
    )
    # No total: the short page is confirmed by one more request, for the next offset.
    requests_mock.get(f"{BASE}/v1/resource?offset=1", json={"data": []})
    assert len(records_by_stream(run_sync(fast, streams=["pages"]))["pages"]) == 1
    assert requests_mock.call_count == 4

    requests_mock.reset()
    requests_mock.get(f"{BASE}/v1/resource", status_code=503, json={})
    with pytest.raises(FatalAPIError, match="503"):
        run_sync(fast, streams=["pages"])
    assert requests_mock.call_count == 1


# --- oncall ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "first_query", "header", "value"),
    [
        ({}, {}, "api_key", SECRETS["api_token"]),
        (
            {"page_size": 7, "auth_header": "Authorization", "auth_scheme": "GenieKey"},
            {"limit": ["7"]},
            "Authorization",
            f"GenieKey {SECRETS['api_token']}",
        ),
    ],
)
def test_oncall_follows_next_urls_verbatim(
    requests_mock: Mocker,
    settings: dict[str, Any],
    first_query: dict[str, list[str]],
    header: str,
    value: str,
) -> None:
    expected = {}
    for stream, (path, field) in ONCALL.items():
        expected[stream] = make_records(stream, field, 45)
        requests_mock.get(f"{BASE}{path}", json=next_url_api(path, expected[stream]))

    messages = run_sync(config("oncall", **settings))

    got = records_by_stream(messages)
    assert {s: ids(got[s]) for s in got} == {s: ids(r) for s, r in expected.items()}
    for stream, (path, _) in ONCALL.items():
        sent = [r for r in requests_mock.request_history if r.path == path]
        # Alerts are read sorted by their replication key (incremental), from the first run on.
        order = {"sort": ["updatedAt"], "order": ["asc"]} if stream == "alerts" else {}
        assert query(sent[0]) == {**first_query, **order}, stream
        # Every later request is exactly the previous response's paging.next.
        limit = int(first_query.get("limit", ["20"])[0])
        assert [r.url for r in sent[1:]] == [
            f"{BASE}{path}?offset={o}&limit={limit}&sort=createdAt&order=desc"
            for o in range(limit, 45, limit)
        ], stream
        for request in sent:
            names = [name for name, _ in parse_qsl(urlsplit(request.url).query)]
            assert len(names) == len(set(names)), request.url
    for request in requests_mock.request_history:
        assert request.headers[header] == value
    assert_no_secret(messages)


def test_oncall_refuses_a_next_url_on_another_host(requests_mock: Mocker) -> None:
    requests_mock.get(
        f"{BASE}/v2/users",
        json={
            "data": make_records("users", "username", 2),
            "paging": {"next": "https://evil.example.net/v2/users?offset=2"},
        },
    )
    with pytest.raises(ForeignHostError, match=r"evil\.example\.net"):
        run_sync(CONFIGS["oncall"], streams=["users"])
    assert [r.hostname for r in requests_mock.request_history] == ["api.example.com"]


def test_oncall_stops_on_a_next_url_seen_twice(requests_mock: Mocker) -> None:
    again = f"{BASE}/v2/alerts?offset=2&limit=2"
    requests_mock.get(
        f"{BASE}/v2/alerts",
        [
            {"json": {"data": make_records("alerts", "message", 2), "paging": {"next": again}}},
            {"json": {"data": make_records("alerts", "message", 4)[2:], "paging": {"next": again}}},
        ],
    )
    with pytest.raises(PaginationError, match="same next-page URL twice"):
        run_sync(CONFIGS["oncall"], streams=["alerts"])
    assert requests_mock.call_count == 2


def test_oncall_waits_as_the_period_header_says() -> None:
    policy = get_source("oncall").retry
    assert policy.wait(1, {"X-RateLimit-Period-In-Sec": "7"}, 300.0) == (
        7.0,
        "X-RateLimit-Period-In-Sec",
    )


# --- credentials refused -----------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
@pytest.mark.parametrize(
    ("source", "url", "stream", "settings"),
    [
        ("helpdesk", f"{BASE}/v1/teams", "teams", "api_key"),
        ("tracker", f"{BASE}/v1/board", "boards", "email, api_token"),
        ("statuspage", f"{BASE}/v1/resource", "pages", "api_key"),
        ("oncall", f"{BASE}/v2/users", "users", "api_token"),
    ],
)
def test_wrong_credentials_fail_at_once_naming_the_settings(
    requests_mock: Mocker, status: int, source: str, url: str, stream: str, settings: str
) -> None:
    requests_mock.get(url, status_code=status, json={"message": "Unauthorized"})

    with pytest.raises(FatalAPIError) as failure:
        run_sync(config(source, max_wait_seconds=0.001), streams=[stream])

    message = str(failure.value)
    assert f"check the settings {settings}" in message
    assert str(status) in message
    assert requests_mock.call_count == 1
    for secret in SECRETS.values():
        assert secret not in message


@pytest.mark.parametrize(
    ("source", "settings"),
    [
        ("helpdesk", "api_key"),
        ("tracker", "email, api_token"),
        ("statuspage", "api_key"),
        ("oncall", "api_token"),
    ],
)
def test_cli_reports_refused_credentials_in_one_line(
    requests_mock: Mocker,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    source: str,
    settings: str,
) -> None:
    requests_mock.get(ANY, status_code=401, json={"message": "Unauthorized"})
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(CONFIGS[source]))

    with pytest.raises(SystemExit) as exit_info:
        main(["--config", str(config_file)])

    assert exit_info.value.code == 1
    stderr = capsys.readouterr().err
    # The last line is the tap's own; earlier ones are log lines (in-process, the SDK's
    # log handler may still point at an earlier test's closed stderr and complain).
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("tap-generic-rest: error: stream ")
    assert f"-> 401: the server refused the credentials; check the settings {settings}" in last
    for secret in (*SECRETS.values(), BASIC.split()[1]):
        assert secret not in stderr
    assert requests_mock.call_count == 1
