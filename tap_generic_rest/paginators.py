"""The paging kinds a dlt spec may name beyond the built-in sources' (see pagination.py).

Page numbers, next-page links (in the body, at a path or given by a template, or in the
``Link`` header) and cursors sent back as a query parameter. Each is a paging spec, as in
:mod:`tap_generic_rest.pagination`, building a paginator that carries the same guards:
a repeated page, link or cursor fails the stream instead of looping, a link to another
host is never followed, an empty page ends the stream.

Where the next reference is read is a small callable on the response (:class:`BodyPath`,
:class:`LinkHeader`, or a compiled template of the seeds' ``{{ response.get(...) }}``
form), so one paginator class serves every spelling of the same paging idea.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from singer_sdk.pagination import BaseAPIPaginator
from typing_extensions import override

from tap_generic_rest.errors import PaginationError
from tap_generic_rest.guards import PageGuard
from tap_generic_rest.pagination import NextUrlPaginator, StreamPages, _as_int
from tap_generic_rest.payload import json_body, lookup, select_records

if TYPE_CHECKING:
    from collections.abc import Sequence

    import requests


class Finder(Protocol):
    """Reads one value (a link, a cursor, a stop flag) from a response."""

    def __call__(self, response: requests.Response) -> Any:
        """The value, or None when the response does not hold it."""
        ...


@dataclass(frozen=True)
class BodyPath:
    """The value at a dotted path of the JSON body (``paging.next``)."""

    path: str

    def __call__(self, response: requests.Response) -> Any:  # noqa: D102
        return lookup(json_body(response), self.path)


@dataclass(frozen=True)
class LinkHeader:
    """The URL of relation ``rel`` in the response's ``Link`` header (RFC 8288)."""

    rel: str = "next"

    def __call__(self, response: requests.Response) -> Any:  # noqa: D102
        return response.links.get(self.rel, {}).get("url")


# --- paginators ------------------------------------------------------------------


class FoundLinkPaginator(NextUrlPaginator):
    """Follows the link ``find`` reads, unless ``stop`` says the page is the last.

    The next-URL guards (same origin as base_url, no link twice, no repeated page) are
    :class:`~tap_generic_rest.pagination.NextUrlPaginator`'s; a relative link is resolved
    against the URL of the page that gave it.
    """

    def __init__(
        self,
        *,
        find: Finder,
        stop: Finder | None,
        origin: str,
        stream: str,
        records_key: str,
        primary_keys: Sequence[str] = (),
    ) -> None:
        super().__init__(
            next_key="",
            origin=origin,
            stream=stream,
            records_key=records_key,
            primary_keys=primary_keys,
        )
        self.find = find
        self.stop = stop

    @override
    def find_link(self, response: requests.Response) -> Any:
        if self.stop is not None and self.stop(response):
            return None
        return self.find(response)


class CursorPaginator(PageGuard, BaseAPIPaginator[Any]):
    """Sends back the cursor ``find`` reads from each page until there is none.

    A cursor seen before fails the stream: a server that repeats one would loop forever.
    """

    def __init__(
        self,
        *,
        find: Finder,
        stop: Finder | None,
        stream: str,
        records_key: str,
        primary_keys: Sequence[str] = (),
    ) -> None:
        super().__init__(None)
        self.find = find
        self.stop = stop
        self.stream = stream
        self.records_key = records_key
        self._seen: set[str] = set()
        self._reset_guard(primary_keys)

    @override
    def get_next(self, response: requests.Response) -> str | None:
        self.check_page(response)
        if self.stop is not None and self.stop(response):
            return None
        cursor = self.find(response)
        if cursor is None or cursor == "" or isinstance(cursor, (dict, list, bool)):
            return None
        cursor = str(cursor)
        if cursor in self._seen:
            msg = f"stream '{self.stream}': the server sent the same cursor twice"
            raise PaginationError(msg)
        self._seen.add(cursor)
        return cursor


class PageNumberPaginator(PageGuard, BaseAPIPaginator[int]):
    """Page numbers from ``start``; stops on an empty page, the total or the maximum.

    ``total_key`` holds the number of pages (dlt's ``total_path``), counted from
    ``base_page``; ``maximum_page`` is the first page number not asked for.
    """

    def __init__(
        self,
        *,
        start: int,
        base_page: int,
        total_key: str | None,
        maximum_page: int | None,
        stream: str,
        records_key: str,
        primary_keys: Sequence[str] = (),
    ) -> None:
        super().__init__(start)
        self.base_page = base_page
        self.total_key = total_key
        self.maximum_page = maximum_page
        self.stream = stream
        self.records_key = records_key
        self._reset_guard(primary_keys)

    @override
    def has_more(self, response: requests.Response) -> bool:
        self.check_page(response)
        if not select_records(response, self.records_key, self.stream):
            return False
        following = self.current_value + 1
        total = _as_int(lookup(json_body(response), self.total_key)) if self.total_key else None
        if total is not None and following >= total + self.base_page:
            return False
        return self.maximum_page is None or following < self.maximum_page

    @override
    def get_next(self, response: requests.Response) -> int:
        return self.current_value + 1

    @override
    def _where(self, response: requests.Response) -> str:
        return f"at page {self.current_value}"


# --- paging specs ----------------------------------------------------------------


@dataclass(frozen=True)
class LinkPaging:
    """Follow next-page links (dlt's ``json_link``, ``header_link``, a template's URL)."""

    find: Finder
    stop: Finder | None = None
    page_size: int = 0
    prefetchable: ClassVar[bool] = False

    def new_paginator(self, of: StreamPages) -> BaseAPIPaginator[Any]:  # noqa: D102
        return FoundLinkPaginator(
            find=self.find,
            stop=self.stop,
            origin=of.origin,
            stream=of.stream,
            records_key=of.records_key,
            primary_keys=of.primary_keys,
        )

    def url_params(self, token: Any, page_size: int) -> dict[str, Any]:  # noqa: D102
        return {}


@dataclass(frozen=True)
class CursorPaging:
    """Send the cursor read from each page as ``cursor_param`` (dlt's ``cursor``)."""

    find: Finder
    cursor_param: str = "cursor"
    stop: Finder | None = None
    page_size: int = 0
    prefetchable: ClassVar[bool] = False

    def new_paginator(self, of: StreamPages) -> BaseAPIPaginator[Any]:  # noqa: D102
        return CursorPaginator(
            find=self.find,
            stop=self.stop,
            stream=of.stream,
            records_key=of.records_key,
            primary_keys=of.primary_keys,
        )

    def url_params(self, token: Any, page_size: int) -> dict[str, Any]:  # noqa: D102
        return {self.cursor_param: token} if token else {}


@dataclass(frozen=True)
class PageNumberPaging:
    """Page numbers in ``page_param`` (dlt's ``page_number``)."""

    page_param: str = "page"
    base_page: int = 0
    start: int | None = None
    total_key: str | None = "total"
    maximum_page: int | None = None
    page_size: int = 0
    prefetchable: ClassVar[bool] = False

    def new_paginator(self, of: StreamPages) -> BaseAPIPaginator[Any]:  # noqa: D102
        return PageNumberPaginator(
            start=self.base_page if self.start is None else self.start,
            base_page=self.base_page,
            total_key=self.total_key,
            maximum_page=self.maximum_page,
            stream=of.stream,
            records_key=of.records_key,
            primary_keys=of.primary_keys,
        )

    def url_params(self, token: Any, page_size: int) -> dict[str, Any]:  # noqa: D102
        first = self.base_page if self.start is None else self.start
        return {self.page_param: first if token is None else token}
