"""Every paginator a spec may name: on hand-built responses, and through the tap.

Unit tests drive the paginators over real ``requests.Response`` objects; the tap tests run
a one-resource spec against requests-mock and check the requests sent and records read.
"""

from __future__ import annotations

from typing import Any

import pytest

from tap_generic_rest.errors import ForeignHostError, PaginationError
from tap_generic_rest.paging import (
    AutoPaging,
    BodyPath,
    CursorPaginator,
    CursorPaging,
    DltOffsetPaging,
    FoundLinkPaginator,
    LinkHeader,
    LinkPaging,
    OffsetPaginator,
    OffsetPaging,
    PageNumberPaginator,
    PageNumberPaging,
    ResponseHeader,
    SinglePage,
    StreamPages,
)
from tap_generic_rest.spec.compile import compile_spec
from tap_generic_rest.spec.template import compile_template
from tests.helpers import records_by_stream, run_sync
from tests.responses import make_response

BASE = "https://api.example.com/v1"
ORIGIN = "https://api.example.com"


def rows(start: int, count: int) -> list[dict[str, int]]:
    return [{"id": i} for i in range(start, start + count)]


def drive(paginator: Any, responses: list[Any]) -> list[Any]:
    """Advance over ``responses``; return the token each page was asked with."""
    tokens = []
    for response in responses:
        tokens.append(paginator.current_value)
        paginator.advance(response)
        if paginator.finished:
            break
    return tokens


def spec_config(paginator: Any, **endpoint: Any) -> dict[str, Any]:
    return {
        "base_url": BASE,
        "spec": {
            "client": {"base_url": BASE},
            "resources": [
                {
                    "name": "things",
                    "primary_key": "id",
                    "write_disposition": "merge",
                    "endpoint": {"path": "/things", "paginator": paginator, **endpoint},
                }
            ],
        },
        "max_concurrent_requests": 1,
    }


def stream_paging(config: dict[str, Any]) -> Any:
    return compile_spec(config).streams[0].paging


# --- compiled specs -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("paginator", "expected"),
    [
        (None, AutoPaging()),
        ("auto", AutoPaging()),
        ("json_response", LinkPaging(BodyPath("next"), empty_pages_go_on=True)),
        (
            {"type": "header_cursor"},
            CursorPaging(ResponseHeader("next"), "cursor", empty_pages_go_on=True),
        ),
        ("single_page", SinglePage()),
        ({"type": "single_page"}, SinglePage()),
        (
            {"type": "offset", "limit": 50, "offset_param": "startAt"},
            DltOffsetPaging(page_size=50, offset_param="startAt", total_key="total"),
        ),
        (
            {
                "type": "offset",
                "limit": 5,
                "offset": 10,
                "limit_param": "count",
                "total_path": None,
                "maximum_offset": 100,
            },
            DltOffsetPaging(
                page_size=5, limit_param="count", total_key=None, start=10, maximum_offset=100
            ),
        ),
        (
            {"type": "page_number", "base_page": 1, "total_path": "$.meta.pages"},
            PageNumberPaging(base_page=1, total_key="meta.pages"),
        ),
        (
            {"type": "json_link", "next_url_path": "links.next"},
            LinkPaging(BodyPath("links.next"), empty_pages_go_on=True),
        ),
        ({"type": "json_link"}, LinkPaging(BodyPath("next"), empty_pages_go_on=True)),
        ({"type": "header_link"}, LinkPaging(LinkHeader("next"), empty_pages_go_on=True)),
        ("header_link", LinkPaging(LinkHeader("next"), empty_pages_go_on=True)),
        (
            {"type": "cursor", "cursor_path": "cursors.after", "cursor_param": "after"},
            CursorPaging(BodyPath("cursors.after"), "after", empty_pages_go_on=True),
        ),
        (
            {"type": "cursor"},
            CursorPaging(BodyPath("cursors.next"), "cursor", empty_pages_go_on=True),
        ),
    ],
)
def test_each_paginator_compiles_to_a_paging_spec_with_dlts_defaults(paginator, expected):
    assert stream_paging(spec_config(paginator)) == expected


def test_the_seeds_template_form_compiles_to_link_paging():
    paging = stream_paging(
        spec_config(
            {
                "type": "cursor",
                "cursor_value": '{{ response.get("paging", {}).get("next", {}) }}',
                "stop_condition": '{{ not response.get("paging", {}).get("next", {}) }}',
            }
        )
    )
    assert isinstance(paging, LinkPaging)
    next_page = make_response({"paging": {"next": f"{BASE}/things?offset=2"}})
    assert paging.find(next_page) == f"{BASE}/things?offset=2"
    assert paging.stop is not None
    assert not paging.stop(next_page)
    assert paging.stop(make_response({"paging": {}}))


def test_a_template_with_a_cursor_param_sends_the_value_as_a_cursor():
    paging = stream_paging(
        spec_config(
            {
                "type": "cursor",
                "cursor_value": "{{ response['meta']['after'] }}",
                "cursor_param": "a",
            }
        )
    )
    assert isinstance(paging, CursorPaging)
    assert paging.url_params("xyz", 0) == {"a": "xyz"}


# --- unit: paginators on responses --------------------------------------------------


class TestPageNumber:
    def paginator(self, **kw: Any) -> PageNumberPaginator:
        args = {"start": 1, "base_page": 1, "total_key": "total_pages", "maximum_page": None}
        return PageNumberPaginator(**{**args, **kw}, stream="s", records_key="data")

    def test_stops_at_the_total_number_of_pages(self):
        pages = [make_response({"data": rows(i, 2), "total_pages": 3}) for i in (0, 2, 4, 6)]
        assert drive(self.paginator(), pages) == [1, 2, 3]

    def test_base_page_zero_counts_from_zero(self):
        paginator = self.paginator(start=0, base_page=0)
        pages = [make_response({"data": rows(i, 2), "total_pages": 2}) for i in (0, 2, 4)]
        assert drive(paginator, pages) == [0, 1]

    def test_without_total_stops_on_an_empty_page(self):
        paginator = self.paginator(total_key=None)
        pages = [make_response({"data": rows(i, 2)}) for i in (0, 2)] + [
            make_response({"data": []})
        ]
        assert drive(paginator, pages) == [1, 2, 3]

    def test_maximum_page_is_not_asked_for(self):
        paginator = self.paginator(total_key=None, maximum_page=3)
        pages = [make_response({"data": rows(i, 2)}) for i in (0, 2, 4, 6)]
        assert drive(paginator, pages) == [1, 2]

    def test_a_server_repeating_its_page_is_an_error(self):
        paginator = self.paginator(total_key=None)
        page = {"data": rows(0, 2)}
        with pytest.raises(PaginationError, match="at page 3 repeats records already read"):
            drive(paginator, [make_response(page) for _ in range(3)])

    def test_params(self):
        assert PageNumberPaging(base_page=1).url_params(None, 0) == {"page": 1}
        assert PageNumberPaging(page_param="p").url_params(4, 0) == {"p": 4}
        assert PageNumberPaging(base_page=1, start=3).url_params(None, 0) == {"page": 3}


class TestOffsetExtras:
    def test_maximum_offset_ends_paging(self):
        paginator = OffsetPaginator(page_size=2, records_key="data", stream="s", maximum_offset=4)
        pages = [make_response({"data": rows(i, 2)}) for i in (0, 2, 4)]
        assert drive(paginator, pages) == [0, 2]

    def test_paging_starts_at_the_spec_offset(self):
        paging = OffsetPaging(page_size=2, start=10)
        paginator = paging.new_paginator(StreamPages("s", "data", page_size=2, origin=ORIGIN))
        assert paginator.current_value == 10
        assert paging.url_params(None, 2) == {"offset": 10, "limit": 2}


class TestLinks:
    def paginator(self, find: Any, stop: Any = None) -> FoundLinkPaginator:
        return FoundLinkPaginator(find=find, stop=stop, origin=ORIGIN, stream="s", records_key="")

    def test_json_link_absolute_and_relative(self):
        paginator = self.paginator(BodyPath("next"))
        first = make_response({"items": rows(0, 1), "next": f"{BASE}/things?page=2"})
        second = make_response(
            {"items": rows(1, 1), "next": "/v1/things?page=3"}, url=f"{BASE}/things?page=2"
        )
        last = make_response({"items": rows(2, 1), "next": None}, url=f"{BASE}/things?page=3")
        tokens = drive(paginator, [first, second, last])
        assert tokens[0] is None
        assert [t.geturl() for t in tokens[1:]] == [
            f"{BASE}/things?page=2",
            f"{BASE}/things?page=3",
        ]

    def test_header_link(self):
        paginator = self.paginator(LinkHeader("next"))
        first = make_response(
            rows(0, 2),
            headers={"Link": f'<{BASE}/t?page=2>; rel="next", <{BASE}/t?page=1>; rel="first"'},
        )
        last = make_response(rows(2, 2), headers={"Link": f'<{BASE}/t?page=1>; rel="first"'})
        tokens = drive(paginator, [first, last])
        assert tokens[1].geturl() == f"{BASE}/t?page=2"
        assert paginator.finished

    def test_a_link_to_another_host_is_refused(self):
        paginator = self.paginator(LinkHeader("next"))
        page = make_response(
            rows(0, 1), headers={"Link": '<https://evil.example.net/t>; rel="next"'}
        )
        with pytest.raises(ForeignHostError, match=r"evil\.example\.net"):
            paginator.advance(page)

    def test_template_stop_condition_wins_over_a_link(self):
        find = compile_template('{{ response.get("next") }}', "k")
        stop = compile_template('{{ response.get("done") }}', "k")
        paginator = self.paginator(find, stop)
        paginator.advance(make_response({"items": rows(0, 1), "next": f"{BASE}/x", "done": True}))
        assert paginator.finished


class TestCursor:
    def paginator(self, stop: Any = None) -> CursorPaginator:
        return CursorPaginator(
            find=BodyPath("meta.next"), stop=stop, stream="s", records_key="data"
        )

    def test_follows_cursors_until_there_is_none(self):
        pages = [
            make_response({"data": rows(0, 2), "meta": {"next": "c2"}}),
            make_response({"data": rows(2, 2), "meta": {"next": 3}}),
            make_response({"data": rows(4, 1), "meta": {"next": ""}}),
        ]
        assert drive(self.paginator(), pages) == [None, "c2", "3"]

    def test_a_repeated_cursor_is_an_error(self):
        pages = [
            make_response({"data": rows(0, 2), "meta": {"next": "c2"}}),
            make_response({"data": rows(2, 2), "meta": {"next": "c2"}}),
        ]
        with pytest.raises(PaginationError, match="same cursor twice"):
            drive(self.paginator(), pages)

    def test_params(self):
        assert CursorPaging(BodyPath("x"), "after").url_params(None, 0) == {}
        assert CursorPaging(BodyPath("x"), "after").url_params("c", 0) == {"after": "c"}


# --- through the tap -------------------------------------------------------------------


def sent(requests_mock: Any) -> list[str]:
    return [r.url.removeprefix(BASE) for r in requests_mock.request_history]


def ids(config: dict[str, Any]) -> list[int]:
    return [r["id"] for r in records_by_stream(run_sync(config)).get("things", [])]


def test_tap_offset_paging_with_total(requests_mock):
    for start in (0, 2, 4):
        requests_mock.get(
            f"{BASE}/things?offset={start}&limit=2",
            json={"items": rows(start, min(2, 5 - start)), "total": 5},
            complete_qs=True,
        )
    config = spec_config({"type": "offset", "limit": 2}, data_selector="items")
    assert ids(config) == [0, 1, 2, 3, 4]
    assert sent(requests_mock)[-3:] == [
        "/things?offset=0&limit=2",
        "/things?offset=2&limit=2",
        "/things?offset=4&limit=2",
    ]


def test_tap_page_number_paging(requests_mock):
    for page in (1, 2):
        requests_mock.get(
            f"{BASE}/things?page={page}",
            json={"data": rows(page * 10, 2), "pages": 2},
            complete_qs=True,
        )
    config = spec_config({"type": "page_number", "base_page": 1, "total_path": "pages"})
    assert ids(config) == [10, 11, 20, 21]


def test_tap_json_link_paging_relative(requests_mock):
    requests_mock.get(f"{BASE}/things", json={"data": rows(0, 2), "next": "things?after=2"})
    requests_mock.get(f"{BASE}/things?after=2", json={"data": rows(2, 1), "next": None})
    config = spec_config({"type": "json_link"}, data_selector="$.data[*]")
    assert ids(config) == [0, 1, 2]


def test_tap_header_link_paging_with_bare_arrays(requests_mock):
    requests_mock.get(
        f"{BASE}/things", json=rows(0, 2), headers={"Link": f'<{BASE}/things?page=2>; rel="next"'}
    )
    requests_mock.get(f"{BASE}/things?page=2", json=rows(2, 2))
    assert ids(spec_config({"type": "header_link"})) == [0, 1, 2, 3]


def test_tap_cursor_paging_sends_the_cursor_and_the_static_params(requests_mock):
    requests_mock.get(
        f"{BASE}/things?per=2",
        json={"data": rows(0, 2), "cursors": {"next": "n1"}},
        complete_qs=True,
    )
    requests_mock.get(
        f"{BASE}/things?per=2&after=n1", json={"data": rows(2, 2), "cursors": {}}, complete_qs=True
    )
    config = spec_config({"type": "cursor", "cursor_param": "after"}, params={"per": 2})
    assert ids(config) == [0, 1, 2, 3]


def test_tap_template_paging_follows_the_next_url_as_written(requests_mock):
    requests_mock.get(
        f"{BASE}/things",
        json={"data": rows(0, 2), "paging": {"next": f"{BASE}/things?offset=2&sort=x"}},
    )
    requests_mock.get(f"{BASE}/things?offset=2&sort=x", json={"data": rows(2, 1), "paging": {}})
    config = spec_config(
        {
            "type": "cursor",
            "cursor_value": '{{ response.get("paging", {}).get("next", {}) }}',
            "stop_condition": '{{ not response.get("paging", {}).get("next", {}) }}',
        }
    )
    assert ids(config) == [0, 1, 2]
    assert sent(requests_mock)[-1] == "/things?offset=2&sort=x"


def test_tap_single_page_asks_once(requests_mock):
    requests_mock.get(f"{BASE}/things", json={"data": rows(0, 3), "next": f"{BASE}/x"})
    assert ids(spec_config("single_page")) == [0, 1, 2]
    assert sent(requests_mock).count("/things") == 2  # discovery's first page, then the sync
