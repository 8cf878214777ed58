"""Every paginator kind, whoever configures it (a built-in source or a dlt spec).

A *paging spec* is what a stream declares (``OffsetPaging(limit_param="count")``): it builds a
fresh *paginator*, a small subclass of an SDK paginator, for each run of a stream, and turns a
page token into query parameters. The stop rule of counted pages is
:func:`~tap_generic_rest.paging.shared.page_end`; the guards against servers that would make
paging loop or repeat records are in :mod:`~tap_generic_rest.paging.guards` and in the
paginators (a repeated next URL or cursor, a next URL on another host).
"""

from tap_generic_rest.paging.auto import AutoPaginator, AutoPaging
from tap_generic_rest.paging.cursor import CursorPaginator, CursorPaging
from tap_generic_rest.paging.links import (
    FoundLinkPaginator,
    LinkPaging,
    NextUrlPaginator,
    NextUrlPaging,
)
from tap_generic_rest.paging.offset import (
    DltOffsetPaginator,
    DltOffsetPaging,
    OffsetPaginator,
    OffsetPaging,
    StartAtPaginator,
    StartAtPaging,
)
from tap_generic_rest.paging.page_number import PageNumberPaginator, PageNumberPaging
from tap_generic_rest.paging.request_body import BodyPaging
from tap_generic_rest.paging.shared import (
    BodyPath,
    Finder,
    LinkHeader,
    Paging,
    ResponseHeader,
    SinglePage,
    StreamPages,
    is_last_page,
    no_more,
    page_end,
)

__all__ = [
    "AutoPaginator",
    "AutoPaging",
    "BodyPaging",
    "BodyPath",
    "CursorPaginator",
    "CursorPaging",
    "DltOffsetPaginator",
    "DltOffsetPaging",
    "Finder",
    "FoundLinkPaginator",
    "LinkHeader",
    "LinkPaging",
    "NextUrlPaginator",
    "NextUrlPaging",
    "OffsetPaginator",
    "OffsetPaging",
    "PageNumberPaginator",
    "PageNumberPaging",
    "Paging",
    "ResponseHeader",
    "SinglePage",
    "StartAtPaginator",
    "StartAtPaging",
    "StreamPages",
    "is_last_page",
    "no_more",
    "page_end",
]
