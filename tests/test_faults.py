"""Servers that misbehave: paging that would loop, and bodies that hold no records.

Each run must end with one clear error, after a bounded number of requests, and
without a record emitted twice (the records of a page that repeats an earlier one
are never emitted). Both the sequential loop and the page prefetcher are checked.
"""

from __future__ import annotations

import io
import json
import socket
import threading
from contextlib import redirect_stdout
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from singer_sdk.exceptions import RetriableAPIError

from tap_generic_rest.errors import (
    ForeignHostError,
    PaginationError,
    ResponseShapeError,
    TapError,
)
from tap_generic_rest.redact import REDACTOR
from tap_generic_rest.tap import TapGenericRest
from tests.helpers import run_sync

#: Fetching ahead as configured, whatever the pace (see tests/test_pace.py).
pytestmark = pytest.mark.usefixtures("pages_ahead_as_configured")

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from requests_mock import Mocker

BASE = "https://api.example.com"
CREDENTIALS: dict[str, dict[str, str]] = {
    "chat": {"api_token": "tok-7c1e9a2f", "user_id": "uid-5b3d8e04"},
    "helpdesk": {"api_key": "key-2f6a0c9d"},
    "tracker": {"email": "ann@example.com", "api_token": "tok-7c1e9a2f"},
    "statuspage": {"api_key": "key-2f6a0c9d"},
    "oncall": {"api_token": "tok-7c1e9a2f"},
}
#: Sequential loop, and pages fetched ahead.
WORKERS = pytest.mark.parametrize("workers", [1, 4])


@pytest.fixture(autouse=True)
def _fresh_redactor() -> None:
    REDACTOR.clear()


def config(source: str, **overrides: Any) -> dict[str, Any]:
    return {
        "source": source,
        "base_url": BASE,
        **CREDENTIALS[source],
        "max_wait_seconds": 0.001,
        **overrides,
    }


def run_until_failure(
    config: dict[str, Any], stream: str
) -> tuple[list[dict[str, Any]], BaseException]:
    """Sync one stream, expecting a failure; return the records emitted before it and it."""
    catalog = TapGenericRest(config=config, setup_mapper=False).catalog_dict
    for entry in catalog["streams"]:
        for meta in entry["metadata"]:
            if meta["breadcrumb"] == []:
                meta["metadata"]["selected"] = entry["tap_stream_id"] == stream
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        tap = TapGenericRest(config=config, catalog=catalog)
        with pytest.raises(Exception) as failure:  # noqa: PT011
            tap.sync_all()
        # Record lines the writer gathered before the failure: the test wants every one.
        flush = getattr(tap.message_writer, "flush", None)
        if flush is not None:
            flush()
    messages = [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]
    records = [m["record"] for m in messages if m["type"] == "RECORD"]
    return records, failure.value


def query(request: Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}


def rows(start: int, count: int, key: str = "id") -> list[dict[str, Any]]:
    return [{key: f"r{i}"} for i in range(start, start + count)]


def assert_no_duplicates(records: list[dict[str, Any]], key: str = "id") -> None:
    keys = [r[key] for r in records]
    assert len(keys) == len(set(keys)), keys


# --- paging that would loop ------------------------------------------------------------


@WORKERS
def test_offset_ignored_repeating_full_pages_stops_without_duplicates(
    requests_mock: Mocker, workers: int
) -> None:
    """helpdesk: a server that ignores ``offset`` answers the first page forever.

    One repeat is what an insert at the front looks like with a page size of 1, so
    the second page in a row that brings nothing new ends the stream.
    """
    requests_mock.get(f"{BASE}/v1/contacts", json={"data": rows(0, 2)})
    records, error = run_until_failure(
        config("helpdesk", page_size=2, max_concurrent_requests=workers), "contacts"
    )
    assert isinstance(error, PaginationError)
    assert "stream 'contacts'" in str(error)
    assert "repeats records already read" in str(error)
    assert records == rows(0, 2)
    assert requests_mock.call_count <= 2 + 2 * workers


@WORKERS
def test_repeated_full_last_page_stops_without_duplicates(
    requests_mock: Mocker, workers: int
) -> None:
    """statuspage: the last full page comes back again for every offset past the end."""
    data = rows(0, 4)

    def respond(request: Any, context: Any) -> dict[str, Any]:
        start = min(int(query(request)["offset"]), 2)
        return {"data": data[start : start + 2]}

    requests_mock.get(f"{BASE}/v1/resource", json=respond)
    records, error = run_until_failure(
        config("statuspage", page_size=2, max_concurrent_requests=workers), "pages"
    )
    assert isinstance(error, PaginationError)
    assert records == data
    assert requests_mock.call_count <= 4 + 2 * workers


@WORKERS
def test_chat_offset_that_does_not_advance(requests_mock: Mocker, workers: int) -> None:
    """chat (page size 1): the server answers offset 0 whatever offset is asked."""
    requests_mock.get(
        f"{BASE}/users.list",
        json={"users": rows(0, 1, "_id"), "count": 1, "offset": 0, "total": 5, "success": True},
    )
    records, error = run_until_failure(config("chat", max_concurrent_requests=workers), "users")
    assert isinstance(error, PaginationError)
    assert records == rows(0, 1, "_id")
    assert requests_mock.call_count <= 2 + 2 * workers


@WORKERS
def test_tracker_start_at_not_honoured_stops_without_duplicates(
    requests_mock: Mocker, workers: int
) -> None:
    requests_mock.get(
        f"{BASE}/v1/board",
        json={"startAt": 0, "maxResults": 2, "total": 10, "isLast": False, "values": rows(0, 2)},
    )
    records, error = run_until_failure(
        config("tracker", page_size=2, max_concurrent_requests=workers), "boards"
    )
    assert isinstance(error, PaginationError)
    assert "startAt=2" in str(error)
    assert records == rows(0, 2)
    assert requests_mock.call_count <= 1 + workers


@WORKERS
def test_tracker_same_records_under_a_new_start_at(requests_mock: Mocker, workers: int) -> None:
    def respond(request: Any, context: Any) -> dict[str, Any]:
        start = int(query(request)["startAt"])
        return {"startAt": start, "maxResults": 2, "total": 10, "values": rows(0, 2)}

    requests_mock.get(f"{BASE}/v1/board", json=respond)
    records, error = run_until_failure(
        config("tracker", page_size=2, max_concurrent_requests=workers), "boards"
    )
    assert isinstance(error, PaginationError)
    assert records == rows(0, 2)


@pytest.mark.parametrize(
    "nexts",
    [
        # page 2 points at itself
        {"0": "offset=1", "1": "offset=1"},
        # page 3 points back at page 2
        {"0": "offset=1", "1": "offset=2", "2": "offset=1"},
        # the first page comes back under another URL: its records repeat
        {"0": "offset=1", "1": "offset=0"},
    ],
    ids=["self", "cycle", "back-to-start"],
)
def test_oncall_next_url_seen_twice_stops_without_duplicates(
    requests_mock: Mocker, nexts: dict[str, str]
) -> None:
    def respond(request: Any, context: Any) -> dict[str, Any]:
        offset = query(request).get("offset", "0")
        return {
            "data": [{"id": f"r{offset}"}],
            "paging": {"next": f"{BASE}/v2/alerts?{nexts[offset]}"},
        }

    requests_mock.get(f"{BASE}/v2/alerts", json=respond)
    records, error = run_until_failure(config("oncall"), "alerts")
    assert isinstance(error, PaginationError)
    assert "stream 'alerts'" in str(error)
    assert_no_duplicates(records)
    assert requests_mock.call_count <= 3


def test_oncall_next_url_on_another_host_is_refused_before_any_request(
    requests_mock: Mocker,
) -> None:
    requests_mock.get(
        f"{BASE}/v2/alerts",
        json={"data": rows(0, 1), "paging": {"next": "https://evil.example.net/v2/alerts?o=1"}},
    )
    other = requests_mock.get("https://evil.example.net/v2/alerts", json={"data": []})
    records, error = run_until_failure(config("oncall"), "alerts")
    assert isinstance(error, ForeignHostError)
    assert "https://evil.example.net" in str(error)
    assert records == rows(0, 1)
    assert other.call_count == 0


# --- bodies that hold no records where the selector says ----------------------------------


@pytest.mark.parametrize(
    ("body", "found"),
    [
        ({"items": []}, "nothing"),
        ({"data": {"id": 1}}, "a JSON dict"),
        ({"data": "none"}, "a JSON str"),
        ({"data": None}, "nothing"),
        ({"users": [{"id": 1}]}, "nothing"),
    ],
)
def test_selector_mismatch_names_stream_selector_and_status(
    requests_mock: Mocker, body: Any, found: str
) -> None:
    requests_mock.get(f"{BASE}/v2/users", json=body)
    with pytest.raises(ResponseShapeError) as failure:
        run_sync(config("oncall"), streams=["users"])
    assert str(failure.value) == (
        "stream 'users': expected a list of records at 'data' in the response (status 200), "
        f"or a bare JSON array, found {found}"
    )
    assert requests_mock.call_count == 1


def test_nested_selector_mismatch(requests_mock: Mocker) -> None:
    requests_mock.get(f"{BASE}/roles.list", json={"success": True})
    with pytest.raises(ResponseShapeError, match=r"stream 'roles'.*at 'roles'.*status 200"):
        run_sync(config("chat"), streams=["roles"])


def test_body_never_json_fails_after_retries_naming_stream_selector_and_status(
    requests_mock: Mocker,
) -> None:
    requests_mock.get(f"{BASE}/v1/teams", text="<html>maintenance</html>")
    with pytest.raises(RetriableAPIError) as failure:
        run_sync(config("helpdesk", max_concurrent_requests=1), streams=["teams"])
    message = str(failure.value)
    assert message.startswith("stream 'teams': GET /v1/teams -> 200")
    assert "not valid JSON" in message
    assert message.endswith("at 'data'")
    assert requests_mock.call_count == 4


# --- bodies cut short on a real socket --------------------------------------------------


class RawServer:
    """A one-thread HTTP server on 127.0.0.1 that answers each request with raw bytes.

    ``answers`` are used in turn (the last one repeats); ``None`` closes the connection
    without answering.
    """

    def __init__(self, answers: list[bytes | None]) -> None:
        self.answers = answers
        self.requests: list[bytes] = []
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._socket.getsockname()
        return f"http://{host}:{port}"

    def __enter__(self) -> RawServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._socket.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            with connection:
                self.requests.append(connection.recv(65536))
                index = min(len(self.requests), len(self.answers)) - 1
                answer = self.answers[index]
                if answer is not None:
                    connection.sendall(answer)


def http_response(body: bytes, length: int | None = None) -> bytes:
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
        f"Content-Length: {len(body) if length is None else length}\r\n\r\n"
    )
    return head.encode() + body


@pytest.fixture
def served() -> Iterator[Callable[[list[bytes | None]], RawServer]]:
    servers: list[RawServer] = []

    def start(answers: list[bytes | None]) -> RawServer:
        server = RawServer(answers)
        servers.append(server.__enter__())
        return server

    yield start
    for server in servers:
        server.__exit__()


def test_requests_raises_on_a_body_shorter_than_its_content_length(
    served: Callable[[list[bytes | None]], RawServer],
) -> None:
    """What the retry relies on: requests does not hand back a cut body as complete."""
    server = served([http_response(b'{"data": [{"id": "r0"}', length=100)])
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(server.url, timeout=5)


@pytest.mark.parametrize(
    "fault",
    [
        http_response(b'{"data": [{"id": "r0"}, {"id"', length=200),  # cut short
        http_response(b'{"data": [{"id": "r0"}, {"id"'),  # cut, with a matching length
        None,  # connection closed without an answer
        b"HTTP/1.1 200 OK\r\nContent-Ty",  # headers cut short
    ],
    ids=["content-length-larger", "truncated-json", "reset", "truncated-headers"],
)
def test_cut_answers_on_200_are_retried(
    served: Callable[[list[bytes | None]], RawServer], fault: bytes | None
) -> None:
    body = json.dumps({"data": rows(0, 2)}).encode()
    server = served([fault, http_response(body)])
    cfg = config("oncall", base_url=server.url)
    records = [m["record"] for m in run_sync(cfg, streams=["users"]) if m["type"] == "RECORD"]
    assert records == rows(0, 2)
    assert len(server.requests) == 2


def test_cut_answers_every_time_fail_after_the_retries(
    served: Callable[[list[bytes | None]], RawServer],
) -> None:
    server = served([http_response(b'{"data": [', length=50)])
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        run_sync(config("oncall", base_url=server.url, max_retries=2), streams=["users"])
    assert len(server.requests) == 3


def test_tap_errors_are_expected_failures() -> None:
    """The CLI prints these in one line; keep them TapErrors."""
    assert issubclass(PaginationError, TapError)
    assert issubclass(ForeignHostError, TapError)
    assert issubclass(ResponseShapeError, TapError)
