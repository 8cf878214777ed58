"""Paginators and paging specs.

A *paging spec* is what a stream declares (``OffsetPaging(limit_param="count",
page_size=1)``): parameter names and the seed's page size. It builds a fresh
*paginator*, a small subclass of an SDK paginator, for each run of a stream, and
turns a page token into query parameters.

The rules for when paging stops live in :func:`is_last_page`; the guards against
servers that would make paging loop (a repeated page, a repeated next URL, a
next URL on another host) live in the paginators and raise
:class:`~tap_generic_rest.errors.PaginationError`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol
from urllib.parse import ParseResult, urljoin

import orjson
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
from tap_generic_rest.payload import json_body, lookup, select_records

if TYPE_CHECKING:
    import requests


def is_last_page(received: int, requested: int, start: int, total: int | None) -> bool:
    """Whether a page ends the stream: empty, reaching the reported total, or short.

    A reported total is authoritative: a server that silently caps the page size
    (chat caps ``count`` at 100) sends short pages that are not the last one. Without
    a total (not an error), a short or empty page ends the stream.
    """
    if received == 0:
        return True
    if total is not None:
        return start + received >= total
    return received < requested


def _as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class PageGuard:
    """Fails a stream whose server repeats a page instead of paging on.

    :meth:`check_page` runs before a page's records are emitted (the stream's
    ``parse_response`` calls it), so a repeated page never yields a duplicate
    record; running it again for the same response does nothing. A page repeats
    when its first and last records are those of an earlier page.
    """

    stream: str
    records_key: str
    _fingerprints: set[bytes]
    _last_fingerprint: bytes | None
    _checked: requests.Response | None

    def _reset_guard(self) -> None:
        self._fingerprints = set()
        self._last_fingerprint = None
        self._checked = None

    def check_page(self, response: requests.Response) -> None:
        """Raise PaginationError if this page cannot follow the pages before it."""
        if response is self._checked:
            return
        self._checked = response
        self._check(response, select_records(response, self.records_key, self.stream))

    def _check(self, response: requests.Response, records: list[Any]) -> None:
        if not records:
            return
        # A digest, not the records: one is kept per page, and memory must not grow with them.
        fingerprint = hashlib.blake2b(
            orjson.dumps([records[0], records[-1]], option=orjson.OPT_SORT_KEYS), digest_size=16
        ).digest()
        if fingerprint in self._fingerprints:
            which = "the previous" if fingerprint == self._last_fingerprint else "an earlier"
            msg = (
                f"stream '{self.stream}': the page {self._where(response)} repeats {which} "
                "page; the server is not paging on"
            )
            raise PaginationError(msg)
        self._fingerprints.add(fingerprint)
        self._last_fingerprint = fingerprint

    def _where(self, response: requests.Response) -> str:
        return f"at {response.request.path_url.split('?', 1)[0]}" if response.request else ""


class OffsetPaginator(PageGuard, SDKOffsetPaginator):
    """Offset/limit paging; the token is the offset of the next page.

    Advances by the number of records received, so a server that returns fewer
    than asked (and says nothing) never makes us skip records.
    """

    def __init__(
        self,
        *,
        page_size: int,
        records_key: str,
        stream: str,
        total_key: str | None = None,
        start: int = 0,
    ) -> None:
        super().__init__(start, page_size)
        self.records_key = records_key
        self.stream = stream
        self.total_key = total_key
        self._received = 0
        self._reset_guard()

    def page_limit(self, body: Any) -> int:
        """How many records the server meant to send in a full page."""
        return self.page_size

    def page_total(self, body: Any) -> int | None:
        """The total the server reports, if any."""
        return _as_int(lookup(body, self.total_key)) if self.total_key else None

    @override
    def has_more(self, response: requests.Response) -> bool:
        self.check_page(response)
        records = select_records(response, self.records_key, self.stream)
        self._received = len(records)
        body = json_body(response)
        return not is_last_page(
            self._received, self.page_limit(body), self.current_value, self.page_total(body)
        )

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
    def _check(self, response: requests.Response, records: list[Any]) -> None:
        start = _as_int(lookup(json_body(response), "startAt"))
        if start is not None and start != self.current_value:
            msg = (
                f"stream '{self.stream}': asked for startAt={self.current_value} "
                f"but the server answered startAt={start}"
            )
            raise PaginationError(msg)
        super()._check(response, records)

    @override
    def has_more(self, response: requests.Response) -> bool:
        more = super().has_more(response)
        return more and lookup(json_body(response), "isLast") is not True


class NextUrlPaginator(PageGuard, BaseHATEOASPaginator):
    """Follows the full URL found at ``next_key`` (``paging.next``) until it is absent.

    The URL is used as the server wrote it, own query string included. A URL on
    another origin than ``base_url`` or one seen before stops the stream with an
    error rather than leaking credentials or looping.
    """

    def __init__(
        self, *, next_key: str, origin: str, stream: str, records_key: str = "data"
    ) -> None:
        super().__init__()
        self.next_key = next_key
        self.origin = origin
        self.stream = stream
        self.records_key = records_key
        self._seen: set[str] = set()
        self._reset_guard()

    @override
    def get_next_url(self, response: requests.Response) -> str | None:
        link = lookup(json_body(response), self.next_key)
        if not link or not isinstance(link, str):
            self.check_page(response)
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


class Paging(Protocol):
    """How a stream pages: builds paginators and the query for a page token."""

    @property
    def page_size(self) -> int:
        """The seed's page size (0 where the stream does not page by size)."""
        ...

    #: Whether the tokens of later pages can be computed before earlier pages arrive.
    prefetchable: ClassVar[bool]

    def new_paginator(
        self, *, records_key: str, page_size: int, origin: str, stream: str
    ) -> BaseAPIPaginator[Any]:
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

    def new_paginator(self, **_: Any) -> BaseAPIPaginator[Any]:  # noqa: D102
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
    prefetchable: ClassVar[bool] = True
    paginator_class: ClassVar[type[OffsetPaginator]] = OffsetPaginator

    def new_paginator(  # noqa: D102
        self, *, records_key: str, page_size: int, origin: str, stream: str
    ) -> BaseAPIPaginator[Any]:
        return self.paginator_class(
            page_size=page_size, records_key=records_key, stream=stream, total_key=self.total_key
        )

    def url_params(self, token: Any, page_size: int) -> dict[str, Any]:  # noqa: D102
        return {self.offset_param: token or 0, self.limit_param: page_size}


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

    def new_paginator(  # noqa: D102
        self, *, records_key: str, page_size: int, origin: str, stream: str
    ) -> BaseAPIPaginator[Any]:
        return NextUrlPaginator(
            next_key=self.next_key, origin=origin, stream=stream, records_key=records_key
        )

    def url_params(self, token: Any, page_size: int) -> dict[str, Any]:  # noqa: D102
        if isinstance(token, ParseResult) or not (self.limit_param and page_size):
            return {}
        return {self.limit_param: page_size}
