"""dlt's ``auto`` paginator: the paging a first response shows, detected as dlt detects it.

dlt's ``rest_api`` pages with ``auto`` when a resource names no paginator: on the first
response it tries, in order, a ``Link: <...>; rel="next"`` header, a next URL in the body
(a ``next`` key holding a URL or ``{href|url: URL}``), a total of pages (``total_pages``,
``pages``, ``totalPages``) and a ``next`` cursor, and falls back to one page.
:class:`AutoPaginator` makes the same choice and then is that paginator, the tap's own kind
with its guards (host pinning of links, repeated cursors and pages).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import ParseResult

from singer_sdk.pagination import BaseAPIPaginator, SinglePagePaginator
from typing_extensions import override

from tap_generic_rest.http.body import BodyNotJSONError, json_body
from tap_generic_rest.paging.cursor import CursorPaginator
from tap_generic_rest.paging.guards import PageGuard
from tap_generic_rest.paging.links import FoundLinkPaginator
from tap_generic_rest.paging.page_number import PageNumberPaginator
from tap_generic_rest.paging.shared import BodyPath, LinkHeader, StreamPages

if TYPE_CHECKING:
    import requests

_logger = logging.getLogger("tap_generic_rest.paging.auto")
_TOTAL_PAGES = re.compile(r"^(total_pages|pages|totalpages)$")
#: dlt's detector looks this deep into the body for a next link or a page count.
_NEXT_KEYS = ("href", "url")


def _next_path(body: Any, path: tuple[str, ...] = ()) -> tuple[tuple[str, ...], Any] | None:
    """Where the body holds ``next`` (or ``next.href``/``next.url``), as dlt's detector finds it."""
    if not isinstance(body, dict):
        return None
    for key, value in body.items():
        if str(key).lower() == "next":
            if isinstance(value, dict):
                for inner, found in value.items():
                    if str(inner).lower() in _NEXT_KEYS and _scalar(found):
                        return (*path, key, inner), found
            elif _scalar(value):
                return (*path, key), value
        if isinstance(value, dict):
            deeper = _next_path(value, (*path, key))
            if deeper is not None:
                return deeper
    return None


def _total_pages_path(body: Any, path: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    if not isinstance(body, dict):
        return None
    for key, value in body.items():
        if _TOTAL_PAGES.match(str(key).lower()) and _scalar(value):
            try:
                int(value)
            except (TypeError, ValueError):
                return None
            return (*path, key)
        if isinstance(value, dict):
            deeper = _total_pages_path(value, (*path, key))
            if deeper is not None:
                return deeper
    return None


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool)


class AutoPaginator(PageGuard, BaseAPIPaginator[Any]):
    """Detects the paging from the first response, then delegates every decision to it."""

    def __init__(self, of: StreamPages) -> None:
        super().__init__(None)
        self.of = of
        self.stream = of.stream
        self.records_key = of.records_key
        self.inner: BaseAPIPaginator[Any] | None = None
        self._reset_guard(of.primary_keys)

    def detect(self, response: requests.Response) -> BaseAPIPaginator[Any]:
        """The paginator for this stream's pages (chosen once, on the first response)."""
        if self.inner is None:
            self.inner = self._choose(response)
            # dlt's detected links and cursors go on past a page without records.
            if isinstance(self.inner, FoundLinkPaginator | CursorPaginator):
                self.inner.empty_pages_go_on = True
            _logger.info("stream '%s': paginator detected: %s", self.stream, self.describe())
        return self.inner

    def describe(self) -> str:
        """What was detected, in dlt's words."""
        inner = self.inner
        if isinstance(inner, FoundLinkPaginator):
            return "header_link" if isinstance(inner.find, LinkHeader) else "json_link"
        if isinstance(inner, PageNumberPaginator):
            return "page_number"
        if isinstance(inner, CursorPaginator):
            return "cursor"
        return "single_page"

    def _choose(self, response: requests.Response) -> BaseAPIPaginator[Any]:
        of = self.of
        common: dict[str, Any] = {
            "stream": of.stream,
            "records_key": of.records_key,
            "primary_keys": of.primary_keys,
        }
        if response.links.get("next"):
            return FoundLinkPaginator(find=LinkHeader(), stop=None, origin=of.origin, **common)
        try:
            body = json_body(response)
        except BodyNotJSONError:
            return SinglePagePaginator()
        found = _next_path(body)
        if found is not None:
            path, value = found
            if isinstance(value, str) and value.startswith(("http", "/")):
                finder = BodyPath(".".join(path))
                return FoundLinkPaginator(find=finder, stop=None, origin=of.origin, **common)
        total = _total_pages_path(body)
        if total is not None:
            return PageNumberPaginator(
                start=0, base_page=0, total_key=".".join(total), maximum_page=None, **common
            )
        if found is not None:
            return CursorPaginator(find=BodyPath(".".join(found[0])), stop=None, **common)
        return SinglePagePaginator()

    @override
    def check_page(self, response: requests.Response) -> list[Any]:
        inner = self.detect(response)
        if isinstance(inner, PageGuard):
            return inner.check_page(response)
        return super().check_page(response)

    @override
    def continue_if_empty(self, response: requests.Response) -> bool:
        inner = self.detect(response)
        return inner.continue_if_empty(response) if isinstance(inner, PageGuard) else False

    @override
    def has_more(self, response: requests.Response) -> bool:
        inner = self.detect(response)
        inner.advance(response)
        return not inner.finished

    @override
    def get_next(self, response: requests.Response) -> Any:
        inner = self.detect(response)
        value = inner.current_value
        if isinstance(inner, PageNumberPaginator):
            return _Param("page", value)
        if isinstance(inner, CursorPaginator):
            return _Param("cursor", value)
        return value  # a next URL (ParseResult), used as the server wrote it


@dataclass(frozen=True)
class _Param:
    """A token that goes into one query parameter (a detected page number or cursor)."""

    name: str
    value: Any


@dataclass(frozen=True)
class AutoPaging:
    """dlt's ``auto``: no paging parameter until the first response shows the paging."""

    page_size: int = 0
    prefetchable: ClassVar[bool] = False

    def new_paginator(self, of: StreamPages) -> BaseAPIPaginator[Any]:  # noqa: D102
        return AutoPaginator(of)

    def url_params(self, token: Any, page_size: int) -> dict[str, Any]:  # noqa: D102
        if isinstance(token, _Param):
            return {token.name: token.value}
        if isinstance(token, ParseResult) or token is None:
            return {}
        return {}
