"""What every paginator shares.

What a paginator is made for, the protocol of a paging spec, the
stop rule of counted pages, single-page streams, and the finders that read a link or a
cursor from a response.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from singer_sdk.pagination import (
    BaseAPIPaginator,
    SinglePagePaginator,
)

from tap_generic_rest.http.body import json_body, lookup

if TYPE_CHECKING:
    from collections.abc import Sequence

    import requests


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


def as_int(value: Any) -> int | None:
    """An integer value as it is, anything else (a boolean included) as None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


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


@dataclass(frozen=True)
class ResponseHeader:
    """The value of one response header (dlt's ``header_cursor`` reads its cursor there)."""

    name: str

    def __call__(self, response: requests.Response) -> Any:  # noqa: D102
        return response.headers.get(self.name)


def no_more(value: Any) -> bool:
    """Whether a ``has_more`` flag read from a body says the last page (dlt reads ``"false"``)."""
    if isinstance(value, str):
        return value.strip().lower() in ("false", "0", "no", "off", "n", "f")
    return value is False or (isinstance(value, int) and value == 0)
