"""Paginators and paging specs.

A *paging spec* is what a stream declares (``OffsetPaging(limit_param="count",
page_size=1)``): parameter names and the seed's page size. It builds a fresh
*paginator*, a small subclass of an SDK paginator, for each run of a stream, and
turns a page token into query parameters.

The rules for when paging stops live in :func:`page_end`; the guards against
servers that would make paging loop or repeat records live in
:mod:`tap_generic_rest.guards` (a repeated page, records moved by a changing
dataset) and in the paginators (a repeated next URL, a next URL on another host).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol
from urllib.parse import ParseResult, urljoin

from singer_sdk.pagination import (
    BaseAPIPaginator,
    BaseHATEOASPaginator,
    SinglePagePaginator,
)
from singer_sdk.pagination import (
    OffsetPaginator as SDKOffsetPaginator,
)
from typing_extensions import override

from tap_generic_rest.auth import origin_of
from tap_generic_rest.errors import ForeignHostError, PaginationError
from tap_generic_rest.guards import PageGuard
from tap_generic_rest.payload import json_body, lookup, select_records

if TYPE_CHECKING:
    from collections.abc import Sequence

    import requests

_logger = logging.getLogger("tap_generic_rest.pagination")


def page_end(
    received: int, requested: int, start: int, total: int | None, *, trust_short: bool = True
) -> str | None:
    """Why a page ends the stream (empty, the reported total reached, short), or None.

    The one stop rule of offset and startAt paging. A reported total is
    authoritative: a server that silently caps the page size (chat caps ``count``
    at 100) sends short pages that are not the last one. Without a total, a short
    page ends the stream only when ``trust_short``: the paginator trusts it once it
    knows what a full page holds (see :class:`OffsetPaginator`).
    """
    if received == 0:
        return "empty page"
    if total is not None:
        return f"total of {total} reached" if start + received >= total else None
    if received < requested and trust_short:
        return f"short page ({received} of {requested} records)"
    return None


def is_last_page(received: int, requested: int, start: int, total: int | None) -> bool:
    """Whether a page ends the stream, by :func:`page_end` (short pages trusted)."""
    return page_end(received, requested, start, total) is not None


def _as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class OffsetPaginator(PageGuard, SDKOffsetPaginator):
    """Offset/limit paging; the token is the offset of the next page.

    Advances by the number of records received, so a server that returns fewer
    than asked (and says nothing) never makes us skip records. Without a reported
    total, the first short page is confirmed by one more request before it ends
    the stream: if that page has records, the server caps its pages, and its page
    size is adopted for the rest of the stream. A page that holds as many records
    as asked (or as the adopted cap) makes later short pages trusted.
    """

    def __init__(
        self,
        *,
        page_size: int,
        records_key: str,
        stream: str,
        total_key: str | None = None,
        start: int = 0,
        primary_keys: Sequence[str] = (),
        maximum_offset: int | None = None,
    ) -> None:
        super().__init__(start, page_size)
        self.records_key = records_key
        self.stream = stream
        self.total_key = total_key
        self.maximum_offset = maximum_offset
        self._received = 0
        #: The server's own page size, once a short page turned out not to be the last.
        self.cap: int | None = None
        self._full_page_seen = False
        self._short_unconfirmed: int | None = None
        self._first_total: int | None = None
        #: Why the last page ended the stream (None while it goes on).
        self.end_reason: str | None = None
        self._reset_guard(primary_keys)

    @property
    def confirming_short_page(self) -> bool:
        """Whether the next request is asked only to tell a last page from a capped one."""
        return self._short_unconfirmed is not None

    def page_limit(self, body: Any) -> int:
        """How many records the server meant to send in a full page."""
        return self.cap or self.page_size

    def page_total(self, body: Any) -> int | None:
        """The total the server reports, if any."""
        return _as_int(lookup(body, self.total_key)) if self.total_key else None

    @override
    def has_more(self, response: requests.Response) -> bool:
        self.check_page(response)
        records = select_records(response, self.records_key, self.stream)
        received = self._received = len(records)
        body = json_body(response)
        total = self.page_total(body)
        self._watch_total(total)
        if received and self._short_unconfirmed is not None:
            self._adopt_cap(self._short_unconfirmed)
        limit = self.page_limit(body)
        self.end_reason = page_end(
            received, limit, self.current_value, total, trust_short=self._full_page_seen
        )
        if (
            self.end_reason is None
            and self.maximum_offset is not None
            and self.current_value + received >= self.maximum_offset
        ):
            self.end_reason = f"maximum offset {self.maximum_offset} reached"
        if received >= limit:
            self._full_page_seen = True
        elif self.end_reason is None and total is None:
            self._short_unconfirmed = received  # the next request tells: the end, or a cap
        return self.end_reason is None

    def _adopt_cap(self, cap: int) -> None:
        self.cap = cap
        self._full_page_seen = True
        self._short_unconfirmed = None
        _logger.warning(
            "stream '%s': the server sends at most %d records a page where %d were asked; "
            "paging on at %d records a page",
            self.stream,
            cap,
            self.page_size,
            cap,
        )

    def _watch_total(self, total: int | None) -> None:
        if total is None or self._first_total == -1:
            return
        if self._first_total is None:
            self._first_total = total
        elif total != self._first_total:
            _logger.warning(
                "stream '%s': the reported total changed from %d to %d while paging; records "
                "deleted meanwhile may have shifted others past a page boundary (the next run "
                "reads them)",
                self.stream,
                self._first_total,
                total,
            )
            self._first_total = -1  # warned once

    @override
    def get_next(self, response: requests.Response) -> int | None:
        return self.current_value + self._received

    @override
    def _where(self, response: requests.Response) -> str:
        return f"at offset {self.current_value}"


class StartAtPaginator(OffsetPaginator):
    """Jira-style ``startAt``/``maxResults`` paging.

    Servers cap ``maxResults``; the cap they applied is read back from the response,
    so a page of 20 when 50 were asked is not mistaken for the last page. ``isLast``
    ends the stream when the server sends it.
    """

    @override
    def page_limit(self, body: Any) -> int:
        return _as_int(lookup(body, "maxResults")) or self.page_size

    @override
    def page_total(self, body: Any) -> int | None:
        return _as_int(lookup(body, "total"))

    @override
    def _check(self, response: requests.Response, records: list[Any]) -> list[Any]:
        start = _as_int(lookup(json_body(response), "startAt"))
        if start is not None and start != self.current_value:
            msg = (
                f"stream '{self.stream}': asked for startAt={self.current_value} "
                f"but the server answered startAt={start}"
            )
            raise PaginationError(msg)
        return super()._check(response, records)

    @override
    def has_more(self, response: requests.Response) -> bool:
        more = super().has_more(response)
        if more and lookup(json_body(response), "isLast") is True:
            self.end_reason = "isLast"
            return False
        return more


class NextUrlPaginator(PageGuard, BaseHATEOASPaginator):
    """Follows the full URL found at ``next_key`` (``paging.next``) until it is absent.

    The URL is used as the server wrote it, own query string included. A URL on
    another origin than ``base_url`` or one seen before stops the stream with an
    error rather than leaking credentials or looping.
    """

    def __init__(
        self,
        *,
        next_key: str,
        origin: str,
        stream: str,
        records_key: str = "data",
        primary_keys: Sequence[str] = (),
    ) -> None:
        super().__init__()
        self.next_key = next_key
        self.origin = origin
        self.stream = stream
        self.records_key = records_key
        self._seen: set[str] = set()
        #: Why the last page ended the stream (None while it goes on).
        self.end_reason: str | None = None
        self._reset_guard(primary_keys)

    def find_link(self, response: requests.Response) -> Any:
        """The next page's link as the response gives it (None or empty: the last page)."""
        return lookup(json_body(response), self.next_key)

    @override
    def get_next_url(self, response: requests.Response) -> str | None:
        link = self.find_link(response)
        if not link or not isinstance(link, str):
            self.check_page(response)
            self.end_reason = "next URL absent"
            return None
        url = urljoin(response.url, link)
        if origin_of(url) != self.origin:
            msg = (
                f"stream '{self.stream}': the next page is on {origin_of(url)}, not on "
                f"{self.origin} (the base_url host); refusing to follow it"
            )
            raise ForeignHostError(msg)
        if url in self._seen:
            msg = f"stream '{self.stream}': the server sent the same next-page URL twice"
            raise PaginationError(msg)
        self.check_page(response)
        self._seen.add(url)
        return url


# --- paging specs: what a stream declares ---------------------------------------


@dataclass(frozen=True)
class StreamPages:
    """What a paginator is made for: the stream, where its records are, how many a page asks."""

    stream: str
    records_key: str
    page_size: int = 0
    #: The base URL's scheme and host: next-page URLs must stay on it.
    origin: str = ""
    primary_keys: Sequence[str] = ()


class Paging(Protocol):
    """How a stream pages: builds paginators and the query for a page token."""

    @property
    def page_size(self) -> int:
        """The seed's page size (0 where the stream does not page by size)."""
        ...

    #: Whether the tokens of later pages can be computed before earlier pages arrive.
    prefetchable: ClassVar[bool]

    def new_paginator(self, of: StreamPages) -> BaseAPIPaginator[Any]:
        """A fresh paginator for one run of a stream."""
        ...

    def url_params(self, token: Any, page_size: int) -> dict[str, Any]:
        """Query parameters for the page ``token`` designates."""
        ...


@dataclass(frozen=True)
class SinglePage:
    """One request, no paging parameters."""

    page_size: int = 0
    prefetchable: ClassVar[bool] = False

    def new_paginator(self, of: StreamPages | None = None) -> BaseAPIPaginator[Any]:  # noqa: D102
        return SinglePagePaginator()

    def url_params(self, token: Any, page_size: int) -> dict[str, Any]:  # noqa: D102
        return {}


@dataclass(frozen=True)
class OffsetPaging:
    """Offset paging with per-source parameter names and an optional total."""

    page_size: int
    offset_param: str = "offset"
    limit_param: str = "limit"
    total_key: str | None = None
    #: The first offset asked for, and the offset paging stops at (dlt's offset, maximum_offset).
    start: int = 0
    maximum_offset: int | None = None
    prefetchable: ClassVar[bool] = True
    paginator_class: ClassVar[type[OffsetPaginator]] = OffsetPaginator

    def new_paginator(self, of: StreamPages) -> BaseAPIPaginator[Any]:  # noqa: D102
        return self.paginator_class(
            page_size=of.page_size,
            records_key=of.records_key,
            stream=of.stream,
            total_key=self.total_key,
            start=self.start,
            primary_keys=of.primary_keys,
            maximum_offset=self.maximum_offset,
        )

    def url_params(self, token: Any, page_size: int) -> dict[str, Any]:  # noqa: D102
        return {self.offset_param: token or self.start, self.limit_param: page_size}


@dataclass(frozen=True)
class StartAtPaging(OffsetPaging):
    """Jira-style paging: ``startAt`` and ``maxResults``, total and ``isLast`` in the body."""

    offset_param: str = "startAt"
    limit_param: str = "maxResults"
    paginator_class: ClassVar[type[OffsetPaginator]] = StartAtPaginator


@dataclass(frozen=True)
class NextUrlPaging:
    """Follow the URL at ``next_key``; the first request may set the page size."""

    next_key: str = "paging.next"
    limit_param: str | None = None
    page_size: int = 0
    prefetchable: ClassVar[bool] = False

    def new_paginator(self, of: StreamPages) -> BaseAPIPaginator[Any]:  # noqa: D102
        return NextUrlPaginator(
            next_key=self.next_key,
            origin=of.origin,
            stream=of.stream,
            records_key=of.records_key,
            primary_keys=of.primary_keys,
        )

    def url_params(self, token: Any, page_size: int) -> dict[str, Any]:  # noqa: D102
        if isinstance(token, ParseResult) or not (self.limit_param and page_size):
            return {}
        return {self.limit_param: page_size}
