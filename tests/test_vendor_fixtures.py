"""The vendors' own published records: each matches its stream's schema and passes through the tap.

``tests/fixtures/vendor/<source>/<stream>.json`` holds records derived from the vendors'
OpenAPI specifications and their examples (``origin`` names the repository, commit and
place; ``derived`` says what was changed or composed). Unlike the sandbox, which is written
from the same reading of the APIs as the schemas, these catch a schema that disagrees with
what the vendors document (issue 12: ``advanced`` boolean, ``team_assignee_id`` integer,
``sysMes`` a list). Each stream is served by a local HTTP server in the vendor's own
envelope (Statuspage and Jira's application roles: a bare JSON array) and, once more, as a
bare array whatever the stream's selector.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import jsonschema
import orjson
import pytest

from tap_generic_rest.sources import all_sources
from tests.helpers import records_by_stream, run_sync

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tap_generic_rest.stream.base import GenericRestStream

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "vendor"
CREDENTIALS: dict[str, dict[str, str]] = {
    "chat": {"api_token": "tok-1", "user_id": "uid-1"},
    "helpdesk": {"api_key": "key-1"},
    "tracker": {"email": "ann@example.com", "api_token": "tok-1"},
    "statuspage": {"api_key": "key-1"},
    "oncall": {"api_token": "tok-1"},
}
#: Where the vendor's own list answers with a bare JSON array.
BARE_BY_VENDOR = {
    ("statuspage", "pages"),
    ("statuspage", "subscribers"),
    ("tracker", "application_roles"),
}
#: Fields the tap adds to records (the partition an avatar was read from).
TAP_ADDED = {("tracker", "avatars"): "avatar_type"}


def streams() -> list[tuple[str, type[GenericRestStream]]]:
    return sorted(
        ((name, stream) for name, source in all_sources().items() for stream in source.streams),
        key=lambda pair: (pair[0], pair[1].name),
    )


STREAMS = streams()
IDS = [f"{source}.{stream.name}" for source, stream in STREAMS]


def fixture(source: str, stream: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((FIXTURES / source / f"{stream}.json").read_text())
    return document


def schema(source: str, stream: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((ROOT / "schemas" / source / f"{stream}.json").read_text())
    return loaded


def envelope(source: str, stream: type[GenericRestStream], records: list[Any]) -> Any:
    """The body the vendor's list endpoint answers with: one page holding every record."""
    if (source, stream.name) in BARE_BY_VENDOR:
        return records
    body: dict[str, Any] = {stream.records_key: records}
    if source == "chat":
        body.update({"count": len(records), "offset": 0, "total": len(records), "success": True})
        if stream.records_key == "update":
            body = {"update": records, "remove": [], "success": True}
    elif stream.name == "boards":
        body.update({"startAt": 0, "maxResults": 50, "total": len(records), "isLast": True})
    elif source == "oncall":
        body.update({"took": 0.01, "requestId": "6d3f5a1e-0000-4000-8000-000000000000"})
        body["paging"] = {"first": "", "last": ""}
    return body


class _Handler(BaseHTTPRequestHandler):
    """Answers a GET with the server's current body and records the path asked for.

    A request for a later page (offset or startAt past 0) gets an empty page: a tap
    confirms a short page without a total by asking for the next one.
    """

    server: FixtureServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.server.paths.append(self.path.split("?", 1)[0])
        query = parse_qs(urlsplit(self.path).query)
        later = any(int(query.get(name, ["0"])[0]) > 0 for name in ("offset", "startAt"))
        data = orjson.dumps(self.server.empty if later else self.server.body)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


class FixtureServer(ThreadingHTTPServer):
    """A 127.0.0.1 server on a free port that serves one JSON body for every path."""

    daemon_threads: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.body: Any = None
        self.empty: Any = None
        self.paths: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture(scope="module")
def server() -> Iterator[FixtureServer]:
    httpd = FixtureServer()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_every_stream_has_a_vendor_fixture() -> None:
    expected = {f"{source}/{stream.name}.json" for source, stream in STREAMS}
    found = {f"{path.parent.name}/{path.name}" for path in FIXTURES.glob("*/*.json")}
    assert found == expected


@pytest.mark.parametrize(("source", "stream"), STREAMS, ids=IDS)
def test_vendor_records_match_the_schema_and_are_declared(
    source: str, stream: type[GenericRestStream]
) -> None:
    document = fixture(source, stream.name)
    assert document["origin"]["repository"], "every fixture names where it comes from"
    records = document["records"]
    assert records
    stream_schema = schema(source, stream.name)
    validator = jsonschema.Draft7Validator(stream_schema)
    for record in records:
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(record)]
        assert not errors, errors
    # The top-level fields the vendors document are all declared (nested objects may carry more).
    undeclared = {name for record in records for name in record} - set(stream_schema["properties"])
    assert not undeclared


@pytest.mark.parametrize("bare", [False, True], ids=["vendor-envelope", "bare-array"])
@pytest.mark.parametrize(("source", "stream"), STREAMS, ids=IDS)
def test_vendor_records_pass_through_the_tap_unchanged(
    server: FixtureServer, source: str, stream: type[GenericRestStream], bare: bool
) -> None:
    records = fixture(source, stream.name)["records"]
    server.body = records if bare else envelope(source, stream, records)
    server.empty = [] if bare else envelope(source, stream, [])
    server.paths.clear()
    config: dict[str, Any] = {"source": source, "base_url": server.url, **CREDENTIALS[source]}
    if stream.paging.page_size:  # one page holds every record
        config["page_size"] = 100
    if stream.name == "avatars":
        config["avatar_types"] = ["project"]

    emitted = records_by_stream(run_sync(config, streams=[stream.name]))[stream.name]

    added = TAP_ADDED.get((source, stream.name))
    if added:
        assert {record.pop(added) for record in emitted} == {"project"}
    assert emitted == records
    assert server.paths[0] == stream.path.format(avatar_type="project")
