"""Paginators on real responses: parameters produced, stop rules, guards."""

from __future__ import annotations

import pytest

from tap_generic_rest.errors import ForeignHostError, PaginationError, ResponseShapeError
from tap_generic_rest.paging import (
    NextUrlPaginator,
    NextUrlPaging,
    OffsetPaginator,
    OffsetPaging,
    SinglePage,
    StartAtPaginator,
    StartAtPaging,
    is_last_page,
)
from tests.responses import make_response

ORIGIN = "https://api.example.com"


def rows(start: int, count: int) -> list[dict[str, int]]:
    return [{"id": i} for i in range(start, start + count)]


def drive(paginator, pages):
    """Advance ``paginator`` over ``pages``; return the tokens it asked for."""
    tokens = []
    for page in pages:
        tokens.append(paginator.current_value)
        paginator.advance(make_response(page))
        if paginator.finished:
            break
    return tokens


@pytest.mark.parametrize(
    ("received", "requested", "start", "total", "last"),
    [
        (0, 10, 0, None, True),  # empty page
        (3, 10, 0, None, True),  # short page
        (10, 10, 0, None, False),  # full page, no total: keep going
        (10, 10, 0, 10, True),  # total reached
        (10, 10, 10, 25, False),
        (5, 10, 20, 25, True),
        (100, 150, 0, 250, False),  # server capped the page size; the total says more
        (0, 10, 0, 25, True),  # empty page before the total: stop rather than loop
    ],
)
def test_is_last_page(received, requested, start, total, last):
    assert is_last_page(received, requested, start, total) is last


class TestOffsetPaging:
    def test_params_use_the_spec_names(self):
        spec = OffsetPaging(page_size=1, offset_param="offset", limit_param="count")
        assert spec.url_params(None, 1) == {"offset": 0, "count": 1}
        assert spec.url_params(7, 5) == {"offset": 7, "count": 5}

    def test_stops_when_total_reached(self):
        paginator = OffsetPaginator(page_size=2, records_key="users", stream="s", total_key="total")
        pages = [
            {"users": rows(0, 2), "total": 5},
            {"users": rows(2, 2), "total": 5},
            {"users": rows(4, 1), "total": 5},
        ]
        assert drive(paginator, pages) == [0, 2, 4]
        assert paginator.finished

    def test_stops_on_total_even_when_page_is_full(self):
        paginator = OffsetPaginator(page_size=2, records_key="d", stream="s", total_key="total")
        assert drive(paginator, [{"d": rows(0, 2), "total": 4}, {"d": rows(2, 2), "total": 4}]) == [
            0,
            2,
        ]
        assert paginator.finished

    def test_short_page_ends_without_total(self):
        paginator = OffsetPaginator(page_size=3, records_key="data", stream="s")
        assert drive(paginator, [{"data": rows(0, 3)}, {"data": rows(3, 1)}]) == [0, 3]
        assert paginator.finished

    def test_exact_multiple_ends_on_empty_page(self):
        paginator = OffsetPaginator(page_size=2, records_key="data", stream="s")
        pages = [{"data": rows(0, 2)}, {"data": rows(2, 2)}, {"data": []}]
        assert drive(paginator, pages) == [0, 2, 4]
        assert paginator.finished

    def test_missing_total_is_not_an_error(self):
        paginator = OffsetPaginator(page_size=1, records_key="data", stream="s", total_key="total")
        assert drive(paginator, [{"data": rows(0, 1)}, {"data": []}]) == [0, 1]

    def test_repeated_full_page_is_an_error_the_second_time_in_a_row(self):
        """A server that ignores the offset; one repeat alone is what an insert looks like."""
        paginator = OffsetPaginator(
            page_size=2, records_key="data", stream="users", primary_keys=("id",)
        )
        first = make_response({"data": rows(0, 2)})
        assert paginator.check_page(first) == rows(0, 2)
        paginator.advance(first)
        again = make_response({"data": rows(0, 2)})
        assert paginator.check_page(again) == []
        paginator.advance(again)
        with pytest.raises(PaginationError, match="repeats records already read"):
            paginator.check_page(make_response({"data": rows(0, 2)}))

    def test_page_repeating_one_from_before_the_remembered_window_is_an_error(self):
        paginator = OffsetPaginator(page_size=60, records_key="data", stream="users")
        for start in (0, 60, 120, 180):
            page = make_response({"data": rows(start, 60)})
            paginator.check_page(page)
            paginator.advance(page)
        with pytest.raises(PaginationError, match="repeats"):
            paginator.check_page(make_response({"data": rows(0, 60)}))

    def test_records_moved_into_the_next_page_are_dropped_once(self, caplog):
        """An insert before the offset shifts the previous page's last record into this one."""
        paginator = OffsetPaginator(
            page_size=3, records_key="data", stream="users", primary_keys=("id",)
        )
        first = make_response({"data": rows(0, 3)})
        paginator.check_page(first)
        paginator.advance(first)
        shifted = make_response({"data": [{"id": 2}, {"id": 3}, {"id": 4}]})
        assert paginator.check_page(shifted) == [{"id": 3}, {"id": 4}]
        assert paginator.moved
        assert "1 of 3 records of the page at offset 3 were read already" in caplog.text
        paginator.advance(shifted)
        assert paginator.current_value == 6  # offsets advance by what the server sent

    def test_memory_of_keys_is_bounded(self):
        paginator = OffsetPaginator(
            page_size=500, records_key="data", stream="users", primary_keys=("id",)
        )
        for start in range(0, 50_000, 500):
            page = make_response({"data": rows(start, 500)})
            paginator.check_page(page)
            paginator.advance(page)
        assert sum(map(len, paginator._pages)) <= 1_000

    def test_first_short_page_without_total_is_confirmed_by_an_empty_page(self):
        paginator = OffsetPaginator(page_size=5, records_key="data", stream="s")
        assert drive(paginator, [{"data": rows(0, 3)}, {"data": []}]) == [0, 3]
        assert paginator.finished
        assert paginator.end_reason == "empty page"

    def test_a_capping_server_s_page_size_is_adopted(self, caplog):
        """Asked for 100, the server sends 50 and no total: 50 is its page size."""
        paginator = OffsetPaginator(page_size=100, records_key="data", stream="pages")
        pages = [{"data": rows(i, 50)} for i in range(0, 700, 50)] + [{"data": []}]
        assert drive(paginator, pages) == list(range(0, 750, 50))
        assert paginator.cap == 50
        assert "at most 50 records a page where 100 were asked" in caplog.text

    def test_after_a_full_page_a_short_page_ends_the_stream(self):
        paginator = OffsetPaginator(page_size=50, records_key="data", stream="pages")
        pages = [{"data": rows(0, 50)}, {"data": rows(50, 20)}, {"data": rows(70, 5)}]
        assert drive(paginator, pages) == [0, 50]
        assert paginator.end_reason == "short page (20 of 50 records)"

    def test_a_changed_total_is_reported_once(self, caplog):
        paginator = OffsetPaginator(page_size=2, records_key="d", stream="s", total_key="total")
        drive(
            paginator,
            [
                {"d": rows(0, 2), "total": 9},
                {"d": rows(2, 2), "total": 8},
                {"d": rows(4, 2), "total": 7},
                {"d": rows(6, 1), "total": 7},
            ],
        )
        assert caplog.text.count("the reported total changed from 9 to 8") == 1

    def test_selector_missing_names_stream_and_selector(self):
        paginator = OffsetPaginator(page_size=2, records_key="data", stream="users")
        with pytest.raises(ResponseShapeError, match=r"stream 'users'.*'data'.*status 200"):
            paginator.advance(make_response({"items": []}))


class TestStartAtPaging:
    def test_params(self):
        assert StartAtPaging(page_size=50).url_params(None, 50) == {"startAt": 0, "maxResults": 50}

    def test_reads_capped_max_results_back(self):
        # Asked for 50, the server caps at 20: 20 is a full page, not the last one.
        paginator = StartAtPaginator(page_size=50, records_key="values", stream="boards")
        pages = [
            {"startAt": 0, "maxResults": 20, "total": 45, "isLast": False, "values": rows(0, 20)},
            {"startAt": 20, "maxResults": 20, "total": 45, "isLast": False, "values": rows(20, 20)},
            {"startAt": 40, "maxResults": 20, "total": 45, "isLast": True, "values": rows(40, 5)},
        ]
        assert drive(paginator, pages) == [0, 20, 40]
        assert paginator.finished

    def test_is_last_stops(self):
        paginator = StartAtPaginator(page_size=2, records_key="values", stream="boards")
        paginator.advance(
            make_response({"startAt": 0, "maxResults": 2, "isLast": True, "values": rows(0, 2)})
        )
        assert paginator.finished

    def test_total_stops_without_is_last(self):
        paginator = StartAtPaginator(page_size=2, records_key="values", stream="boards")
        paginator.advance(
            make_response({"startAt": 0, "maxResults": 2, "total": 2, "values": rows(0, 2)})
        )
        assert paginator.finished

    def test_short_page_without_total_is_confirmed(self):
        paginator = StartAtPaginator(page_size=5, records_key="values", stream="boards")
        paginator.advance(make_response({"startAt": 0, "values": rows(0, 3)}))
        assert not paginator.finished
        paginator.advance(make_response({"startAt": 3, "values": []}))
        assert paginator.finished

    def test_start_that_does_not_advance_is_an_error(self):
        paginator = StartAtPaginator(page_size=2, records_key="values", stream="boards")
        paginator.advance(make_response({"startAt": 0, "maxResults": 2, "values": rows(0, 2)}))
        with pytest.raises(PaginationError, match="startAt=0"):
            paginator.advance(make_response({"startAt": 0, "maxResults": 2, "values": rows(2, 2)}))


class TestNextUrlPaging:
    def next_page(self, url, start=0):
        return {"data": rows(start, 1), "paging": {"next": url} if url is not None else {}}

    def test_follows_full_url_with_its_own_query(self):
        paginator = NextUrlPaginator(next_key="paging.next", origin=ORIGIN, stream="alerts")
        url = f"{ORIGIN}/v2/alerts?offset=20&limit=20&sort=createdAt&order=desc"
        paginator.advance(make_response(self.next_page(url)))
        assert paginator.current_value.geturl() == url
        assert not paginator.finished

    @pytest.mark.parametrize("link", [None, "", {}])
    def test_absent_or_empty_next_stops(self, link):
        paginator = NextUrlPaginator(next_key="paging.next", origin=ORIGIN, stream="alerts")
        body = {"data": rows(0, 1), "paging": {} if link is None else {"next": link}}
        paginator.advance(make_response(body))
        assert paginator.finished

    def test_relative_next_url_is_resolved_against_the_response(self):
        paginator = NextUrlPaginator(next_key="paging.next", origin=ORIGIN, stream="alerts")
        paginator.advance(make_response(self.next_page("/v2/alerts?offset=1")))
        assert paginator.current_value.geturl() == f"{ORIGIN}/v2/alerts?offset=1"

    def test_other_host_is_refused(self):
        paginator = NextUrlPaginator(next_key="paging.next", origin=ORIGIN, stream="alerts")
        with pytest.raises(ForeignHostError, match=r"evil\.example\.net"):
            paginator.advance(make_response(self.next_page("https://evil.example.net/v2/alerts")))

    def test_same_url_twice_is_an_error(self):
        paginator = NextUrlPaginator(next_key="paging.next", origin=ORIGIN, stream="alerts")
        paginator.advance(make_response(self.next_page(f"{ORIGIN}/v2/alerts?offset=1")))
        paginator.advance(make_response(self.next_page(f"{ORIGIN}/v2/alerts?offset=2", 1)))
        with pytest.raises(PaginationError, match="same next-page URL twice"):
            paginator.advance(make_response(self.next_page(f"{ORIGIN}/v2/alerts?offset=1", 2)))

    def test_first_request_sends_limit_only_when_page_size_set(self):
        spec = NextUrlPaging(limit_param="limit")
        assert spec.url_params(None, 0) == {}
        assert spec.url_params(None, 100) == {"limit": 100}


def test_single_page_has_no_params_and_stops():
    spec = SinglePage()
    paginator = spec.new_paginator()
    assert spec.url_params(None, 10) == {}
    paginator.advance(make_response({"roles": rows(0, 3)}))
    assert paginator.finished


# --- why paging stopped (what --probe reports) -----------------------------------------


def test_each_paginator_says_why_it_stopped():
    offset = OffsetPaginator(page_size=2, records_key="data", stream="s", total_key="total")
    offset.advance(make_response({"data": rows(0, 2), "total": 3}))
    assert offset.end_reason is None
    offset.advance(make_response({"data": rows(2, 1), "total": 3}))
    assert offset.end_reason == "total of 3 reached"
    start_at = StartAtPaginator(page_size=2, records_key="values", stream="s")
    start_at.advance(make_response({"values": rows(0, 2), "startAt": 0, "isLast": True}))
    assert start_at.end_reason == "isLast"
    next_url = NextUrlPaginator(next_key="paging.next", origin=ORIGIN, stream="s")
    next_url.advance(make_response({"data": rows(0, 1), "paging": {"next": "/v1/x?offset=1"}}))
    assert next_url.end_reason is None
    next_url.advance(make_response({"data": rows(1, 1), "paging": {}}))
    assert next_url.finished
    assert next_url.end_reason == "next URL absent"


def test_a_paginator_says_when_it_asks_only_to_confirm_a_short_page():
    offset = OffsetPaginator(page_size=10, records_key="data", stream="s")
    offset.advance(make_response({"data": rows(0, 4)}))
    assert not offset.finished
    assert offset.confirming_short_page
    offset.advance(make_response({"data": rows(4, 4)}))  # the server caps at 4
    assert not offset.confirming_short_page
