"""Envelopes: a bare JSON array body is the stream's records whatever its selector.

The real Statuspage lists and Jira's application roles answer with a bare array;
the seeds' selector form (``{"data": [...]}``) keeps working. Paginators read
records through the same selector, so counting, totals and next links must
tolerate an array body: it carries no total and no next link.
"""

from __future__ import annotations

from typing import Any

import pytest

from sandbox import Sandbox
from tap_generic_rest.http.body import select_records
from tap_generic_rest.paging import NextUrlPaginator, OffsetPaginator, StartAtPaginator
from tap_generic_rest.sources import all_sources
from tests.helpers import in_read_order, records_by_stream, run_sync
from tests.responses import make_response

#: Every stream of every source with its selector.
SELECTORS = sorted(
    (name, stream.name, stream.records_key)
    for name, source in all_sources().items()
    for stream in source.streams
)


@pytest.mark.parametrize(("source", "stream", "selector"), SELECTORS)
def test_a_bare_array_is_the_records_whatever_the_selector(
    source: str, stream: str, selector: str
) -> None:
    records = [{"id": 1}, {"id": 2}]
    assert select_records(make_response(records), selector, stream) == records
    assert select_records(make_response({selector: records}), selector, stream) == records


def test_an_empty_bare_array_is_no_records() -> None:
    assert select_records(make_response([]), "data", "users") == []


def test_offset_paging_over_bare_arrays_stops_on_a_short_page() -> None:
    paginator = OffsetPaginator(page_size=2, records_key="users", stream="s", total_key="total")
    paginator.advance(make_response([{"id": 1}, {"id": 2}]))
    assert (paginator.finished, paginator.current_value) == (False, 2)
    paginator.advance(make_response([{"id": 3}]))
    assert paginator.finished


def test_start_at_paging_over_bare_arrays_uses_the_asked_page_size() -> None:
    paginator = StartAtPaginator(page_size=2, records_key="values", stream="boards")
    paginator.advance(make_response([{"id": 1}, {"id": 2}]))
    assert (paginator.finished, paginator.current_value) == (False, 2)
    paginator.advance(make_response([]))
    assert paginator.finished


def test_next_url_paging_ends_on_a_bare_array() -> None:
    paginator = NextUrlPaginator(
        next_key="paging.next", origin="https://api.example.com", stream="s"
    )
    assert paginator.get_next_url(make_response([{"id": 1}])) is None


# --- the tap against the sandbox serving bare arrays ----------------------------------------

#: Server caps above the sizes, so that a bare page (which says nothing of caps) is never short.
UNCAPPED = {"boards_max_results_cap": 1000, "oncall_page_size": 1000}


def _read_all(sb: Sandbox, source: str, **config: Any) -> dict[str, list[dict[str, Any]]]:
    records = records_by_stream(run_sync(sb.tap_config(source, **config)))
    for avatar in records.get("avatars", []):
        avatar.pop("avatar_type")
    return records


@pytest.mark.parametrize("source", sorted(all_sources()))
def test_the_tap_reads_every_stream_served_as_bare_arrays(source: str) -> None:
    with Sandbox(
        seed=3, default_size=23, undeclared_fields=False, bare_arrays=[source], **UNCAPPED
    ) as sb:
        # a bare page says nothing of its size: small pages show that paging goes on
        paging = {} if source == "oncall" else {"page_size": 5}
        records = _read_all(sb, source, **paging)
        expected = {
            stream: in_read_order(source, stream, sb.records(source, stream))
            for stream in sb.counts()[source]
        }
    assert records == expected


def test_the_real_forms_statuspage_and_application_roles() -> None:
    """The vendors' own envelopes: Statuspage and Jira's application roles as bare arrays."""
    real = ["statuspage", "tracker.application_roles"]
    with Sandbox(seed=4, default_size=30, undeclared_fields=False, bare_arrays=real) as sb:
        pages = _read_all(sb, "statuspage")
        roles = _read_all(sb, "tracker")
        assert pages["pages"] == sb.records("statuspage", "pages")
        assert pages["subscribers"] == sb.records("statuspage", "subscribers")
        assert roles["application_roles"] == sb.records("tracker", "application_roles")
        assert roles["boards"] == sb.records("tracker", "boards")  # still under values


def test_a_bare_array_has_no_next_link_so_next_url_paging_reads_one_page() -> None:
    """A bare array cannot carry ``paging.next``: oncall reads the first page and stops."""
    with Sandbox(seed=3, default_size=23, undeclared_fields=False, bare_arrays=["oncall"]) as sb:
        records = _read_all(sb, "oncall")
        first_page = {
            stream: in_read_order("oncall", stream, sb.records("oncall", stream))[:20]
            for stream in sb.counts()["oncall"]
        }
        requests = [r.path for r in sb.requests]
    assert records == first_page
    assert len(requests) == len(first_page)
