"""The probe in-process: it watches the stream's own loop and leaves the stream as it was.

An incremental stream is made here (a chat ``rooms`` stream with a replication key
and the ``updatedSince`` filter the real API reads), so the probe's report of the
replication key's range and of the filter sent is checked whatever the built-in
sources declare.
"""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from typing import TYPE_CHECKING, Any

import pytest
import requests_mock
from singer_sdk.pagination import JSONPathPaginator as SDKJSONPathPaginator
from singer_sdk.pagination import OffsetPaginator as SDKOffsetPaginator
from singer_sdk.pagination import PageNumberPaginator as SDKPageNumberPaginator
from typing_extensions import override

from sandbox import Sandbox
from sandbox.oddities import drift_fields
from tap_generic_rest.errors import ResponseShapeError
from tap_generic_rest.paging import OffsetPaginator, SinglePage
from tap_generic_rest.probe import DRIFT, FAILED, probe
from tap_generic_rest.probe.watch import Decision, decide
from tap_generic_rest.records.drift import json_type
from tap_generic_rest.sources import all_sources
from tap_generic_rest.sources.chat import RolesStream, RoomsStream, TeamsStream
from tap_generic_rest.tap import TapGenericRest
from tests.responses import make_response

if TYPE_CHECKING:
    from collections.abc import Iterator

    from singer_sdk.helpers.types import Context
    from singer_sdk.streams import Stream

SINCE = "2019-01-03T00:00:00.000Z"


class IncrementalRooms(RoomsStream):
    """Rooms changed since the bookmark, as an incremental stream would ask for them."""

    replication_key = "_updatedAt"

    @override
    def get_url_params(self, context: Context | None, next_page_token: Any) -> dict[str, Any]:
        params = super().get_url_params(context, next_page_token)
        since = self.get_starting_replication_key_value(context)
        if since:
            params["updatedSince"] = since
        return params


class IncrementalTap(TapGenericRest):
    @override
    def discover_streams(self) -> list[Stream]:
        return [IncrementalRooms(tap=self)]


class ParentTeams(TeamsStream):
    """Teams whose records give their children a context."""

    @override
    def get_child_context(self, record: dict[str, Any], context: Context | None) -> Context:
        return {"team": record["_id"]}


class TeamRoles(RolesStream):
    """A child of teams: one request per team in a sync."""

    parent_stream_type = ParentTeams


class FamilyTap(TapGenericRest):
    @override
    def discover_streams(self) -> list[Stream]:
        return [ParentTeams(tap=self), TeamRoles(tap=self)]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(seed=2, default_size=25, undeclared_fields=False) as sb:
        yield sb


def test_an_incremental_stream_shows_the_filter_sent_and_the_range_seen(sandbox: Sandbox) -> None:
    state = {
        "bookmarks": {
            "rooms": {"replication_key": "_updatedAt", "replication_key_value": SINCE},
        }
    }
    tap = IncrementalTap(config=sandbox.tap_config("chat"), state=state)
    out = io.StringIO()
    with redirect_stdout(out):
        report, failure = probe(tap, 3)
    assert failure is None
    assert out.getvalue() == ""  # no message of any kind
    rooms = report.streams[0].to_dict()
    assert rooms["replication"]["key"] == "_updatedAt"
    assert rooms["replication"]["filters_sent"] == [{"updatedSince": SINCE}]
    served = [r for r in sandbox.records("chat", "rooms") if r["_updatedAt"] > SINCE]
    assert rooms["records"] == len(served) > 0
    assert rooms["replication"]["min"] == min(r["_updatedAt"] for r in served)
    assert rooms["replication"]["max"] == max(r["_updatedAt"] for r in served)
    assert f"filter sent: updatedSince={SINCE}" in report.render()


def test_the_stream_is_left_as_a_sync_would_find_it(sandbox: Sandbox) -> None:
    tap = TapGenericRest(config=sandbox.tap_config("helpdesk", page_size=10))
    report, failure = probe(tap, 2)
    assert failure is None
    for stream in tap.streams.values():
        assert stream.watch_paginator is None  # type: ignore[attr-defined]
        assert stream.requests_session.hooks["response"] == []  # type: ignore[attr-defined]
    contacts = next(s for s in report.streams if s.name == "contacts")
    assert [e.records for e in contacts.watch.exchanges] == [10, 10]
    assert contacts.watch.more_pages


def test_a_failure_ends_the_probe_and_is_kept_in_the_report(sandbox: Sandbox) -> None:
    config = {**sandbox.tap_config("oncall"), "api_token": "wrong-token-value"}
    tap = TapGenericRest(config=config)
    report, failure = probe(tap, 3)
    assert failure is not None
    assert report.exit_code == FAILED
    assert len(report.streams) == 1  # the first stream failed; no other was asked
    part = report.streams[0]
    assert [e.status for e in part.watch.exchanges] == [401]
    assert part.error is not None
    assert "-> 401" in part.error
    assert "wrong-token-value" not in report.render("json")


def test_each_page_says_whether_paging_goes_on_and_why(sandbox: Sandbox) -> None:
    """Stop reasons are the paginators' own (paging/offset.py); going on names the next page."""
    silent = SDKOffsetPaginator(0, 10)  # an SDK paginator: no reason of its own
    silent.advance(make_response({"data": [{"id": "1"}]}))
    assert decide(silent) == Decision(more=True, reason="next page at offset 10")
    offset = OffsetPaginator(page_size=10, records_key="data", stream="teams")
    offset.advance(make_response({"data": [{"id": str(i)} for i in range(4)]}))
    assert decide(offset) == Decision(
        more=True, reason="next page at offset 4, to confirm the short page was the last"
    )
    offset.advance(make_response({"data": []}))
    assert decide(offset) == Decision(more=False, reason="empty page")
    one = SinglePage().new_paginator()
    one.advance(make_response({"data": []}))
    assert decide(one) == Decision(more=False, reason="the stream does not page")


def test_a_child_stream_is_probed_with_its_parents_contexts_and_writes_nothing(
    sandbox: Sandbox,
) -> None:
    tap = FamilyTap(config=sandbox.tap_config("chat", page_size=2))
    out = io.StringIO()
    with redirect_stdout(out):
        report, failure = probe(tap, 2)
    assert failure is None
    assert out.getvalue() == ""  # the parent's loop synced no child: nothing written
    teams, roles = report.streams
    assert (teams.name, roles.name) == ("teams", "roles")
    assert teams.findings.records == 4  # two pages of two
    # The first three teams, one request loop each (roles is one page).
    assert len(roles.watch.exchanges) == 3
    assert roles.findings.undeclared == {"team": {"string": roles.findings.records}}
    assert tap.streams["teams"].child_streams == [tap.streams["roles"]]


class ChildlessTeams(ParentTeams):
    @override
    def get_child_context(self, record: dict[str, Any], context: Context | None) -> None:
        return None


class OrphanRoles(RolesStream):
    parent_stream_type = ChildlessTeams


class OrphanTap(TapGenericRest):
    @override
    def discover_streams(self) -> list[Stream]:
        return [ChildlessTeams(tap=self), OrphanRoles(tap=self)]


def test_a_child_without_contexts_says_it_was_not_probed(sandbox: Sandbox) -> None:
    report, failure = probe(OrphanTap(config=sandbox.tap_config("chat")), 1)
    assert failure is None
    roles = report.streams[1]
    assert roles.watch.exchanges == []
    assert "  not probed: its parent 'teams' gave no child context in the sample" in (
        report.render().splitlines()
    )


def test_retried_requests_are_shown_with_what_went_wrong() -> None:
    with Sandbox(
        seed=2,
        default_size=5,
        fault_rate=1.0,
        faults=("bad_json",),
        max_failures_per_request=1,
        undeclared_fields=False,
    ) as faulty:
        config = faulty.tap_config("statuspage", max_wait_seconds=0.001)
        report, failure = probe(TapGenericRest(config=config), 3)
    assert failure is None
    pages = report.streams[0]
    got = [(e.status, e.records, e.problem, e.retried) for e in pages.watch.exchanges]
    # The short first page is confirmed by one more request (no total): each failed once.
    assert got == [
        (200, None, "body is not JSON", True),
        (200, 5, None, False),
        (200, None, "body is not JSON", True),
        (200, 0, None, False),
    ]
    assert [e.decision for e in pages.watch.exchanges] == [
        None,
        Decision(more=True, reason="next page at offset 5, to confirm the short page was the last"),
        None,
        Decision(more=False, reason="empty page"),
    ]
    assert "body is not JSON  (retried)" in report.render()


def test_drift_is_found_and_the_widened_schema_is_never_written(sandbox: Sandbox) -> None:
    """A sync widens the schema and writes a SCHEMA message; the probe writes nothing."""
    with Sandbox(seed=2, default_size=8, undeclared_fields=False, drift=True) as drifting:
        tap = TapGenericRest(config=drifting.tap_config("oncall"))
        out = io.StringIO()
        with redirect_stdout(out):
            report, failure = probe(tap, 3)
    assert failure is None
    assert out.getvalue() == ""
    integrations = next(s for s in report.streams if s.name == "integrations")
    expected = {(name, json_type(value)) for name, value in drift_fields("oncall", "integrations")}
    assert expected
    assert set(integrations.findings.drift) == expected
    assert all(d.count == 2 for d in integrations.findings.drift.values())  # records 0 and 4
    assert report.exit_code == DRIFT


def test_a_record_without_its_key_fails_its_stream_and_the_probe_goes_on() -> None:
    def answer(request: Any, context: Any) -> dict[str, Any]:
        key = None if request.path == "/v2/users" else "k1"
        return {"data": [{"id": key}]}

    config = {"source": "oncall", "base_url": "https://api.example.com", "api_token": "t0ken"}
    with requests_mock.Mocker() as mock:
        mock.get(requests_mock.ANY, json=answer)
        report, failure = probe(TapGenericRest(config=config), 3)
    assert isinstance(failure, ResponseShapeError)
    parts = {part.name: part for part in report.streams}
    assert len(parts) == len(all_sources()["oncall"].streams)  # every stream was probed
    assert parts["users"].error is not None
    assert "has its primary key id missing or null" in parts["users"].error
    assert all(p.error is None for name, p in parts.items() if name != "users")
    assert report.exit_code == FAILED


def test_the_next_page_is_named_by_the_kind_of_token() -> None:
    numbered = SDKPageNumberPaginator(1)
    numbered.advance(make_response({"data": [{"id": "1"}]}))
    assert decide(numbered) == Decision(more=True, reason="next page 2")
    cursor = SDKJSONPathPaginator("$.next")
    cursor.advance(make_response({"data": [{"id": "1"}], "next": "c2"}))
    assert decide(cursor) == Decision(more=True, reason='next page, token "c2"')
