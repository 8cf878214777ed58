"""Offset/limit and Jira-style ``startAt``/``maxResults`` paging (the token is the next offset)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from singer_sdk.pagination import (
    BaseAPIPaginator,
)
from singer_sdk.pagination import (
    OffsetPaginator as SDKOffsetPaginator,
)
from typing_extensions import override

from tap_generic_rest.errors import PaginationError
from tap_generic_rest.http.body import json_body, lookup, select_records
from tap_generic_rest.paging.guards import PageGuard
from tap_generic_rest.paging.shared import (
    StreamPages,
    as_int,
    no_more,
    page_end,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    import requests

_logger = logging.getLogger("tap_generic_rest.paging.offset")


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
        return as_int(lookup(body, self.total_key)) if self.total_key else None

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
        return as_int(lookup(body, "maxResults")) or self.page_size

    @override
    def page_total(self, body: Any) -> int | None:
        return as_int(lookup(body, "total"))

    @override
    def _check(self, response: requests.Response, records: list[Any]) -> list[Any]:
        start = as_int(lookup(json_body(response), "startAt"))
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


class DltOffsetPaginator(OffsetPaginator):
    """dlt's offset paging: ends on an empty page, the total or the maximum, as dlt's does.

    A short page does not end it (dlt asks once more, for the empty page), so a spec makes
    as many requests as dlt. It advances by the records received, not by ``limit``: a
    server that caps its pages below ``limit`` loses no record (dlt would skip the rest of
    each page); the page guards are :class:`OffsetPaginator`'s.
    """

    #: Where the body says whether more pages follow (set by DltOffsetPaging).
    has_more_key: str | None = None

    @override
    def has_more(self, response: requests.Response) -> bool:
        records = self.check_page(response)
        received = len(select_records(response, self.records_key, self.stream))
        # An empty page paged past (stop_after_empty_page false) moves on by a whole page.
        self._received = received or self.page_size
        following = self.current_value + self._received
        total = self.page_total(json_body(response))
        if not received and not records and not self.empty_pages_go_on:
            self.end_reason = "empty page"
        elif total is not None and following >= total:
            self.end_reason = f"total of {total} reached"
        elif self.maximum_offset is not None and following >= self.maximum_offset:
            self.end_reason = f"maximum offset {self.maximum_offset} reached"
        elif self.has_more_key and no_more(lookup(json_body(response), self.has_more_key)):
            self.end_reason = f"{self.has_more_key} says no more"
        else:
            self.end_reason = None
        return self.end_reason is None


@dataclass(frozen=True)
class DltOffsetPaging(OffsetPaging):
    """A spec's ``offset`` paginator, stopping where dlt's stops."""

    #: Where the body says whether more pages follow (dlt's ``has_more_path``).
    has_more_key: str | None = None
    #: dlt's ``stop_after_empty_page``: False pages on past an empty page (to the total).
    stop_after_empty_page: bool = True
    paginator_class: ClassVar[type[OffsetPaginator]] = DltOffsetPaginator

    def new_paginator(self, of: StreamPages) -> BaseAPIPaginator[Any]:  # noqa: D102
        paginator = super().new_paginator(of)
        if isinstance(paginator, DltOffsetPaginator):
            paginator.has_more_key = self.has_more_key
            paginator.empty_pages_go_on = not self.stop_after_empty_page
        return paginator
