"""Next-page links, wherever the response gives them.

A full URL in the body (``paging.next``), at a path, from a template, or in
the ``Link`` header. A link to another host is never followed, one seen before fails the
stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import ParseResult, urljoin

from singer_sdk.pagination import (
    BaseAPIPaginator,
    BaseHATEOASPaginator,
)
from typing_extensions import override

from tap_generic_rest.errors import ForeignHostError, PaginationError
from tap_generic_rest.http.authenticators import origin_of
from tap_generic_rest.http.body import json_body, lookup
from tap_generic_rest.paging.guards import PageGuard

if TYPE_CHECKING:
    from collections.abc import Sequence

    import requests

    from tap_generic_rest.paging.shared import (
        Finder,
        StreamPages,
    )


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


class FoundLinkPaginator(NextUrlPaginator):
    """Follows the link ``find`` reads, unless ``stop`` says the page is the last.

    The next-URL guards (same origin as base_url, no link twice, no repeated page) are
    :class:`~tap_generic_rest.paging.offset.NextUrlPaginator`'s; a relative link is resolved
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


@dataclass(frozen=True)
class LinkPaging:
    """Follow next-page links (dlt's ``json_link``, ``header_link``, a template's URL)."""

    find: Finder
    stop: Finder | None = None
    page_size: int = 0
    #: A page without records follows its link too (as dlt's link paginators do).
    empty_pages_go_on: bool = False
    prefetchable: ClassVar[bool] = False

    def new_paginator(self, of: StreamPages) -> BaseAPIPaginator[Any]:  # noqa: D102
        paginator = FoundLinkPaginator(
            find=self.find,
            stop=self.stop,
            origin=of.origin,
            stream=of.stream,
            records_key=of.records_key,
            primary_keys=of.primary_keys,
        )
        paginator.empty_pages_go_on = self.empty_pages_go_on
        return paginator

    def url_params(self, token: Any, page_size: int) -> dict[str, Any]:  # noqa: D102
        return {}
