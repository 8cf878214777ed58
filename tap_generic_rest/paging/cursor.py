"""Cursors read from each page and sent back as a query parameter (dlt's ``cursor``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from singer_sdk.pagination import (
    BaseAPIPaginator,
)
from typing_extensions import override

from tap_generic_rest.errors import PaginationError
from tap_generic_rest.paging.guards import PageGuard

if TYPE_CHECKING:
    from collections.abc import Sequence

    import requests

    from tap_generic_rest.paging.shared import (
        Finder,
        StreamPages,
    )


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


@dataclass(frozen=True)
class CursorPaging:
    """Send the cursor read from each page as ``cursor_param`` (dlt's ``cursor``)."""

    find: Finder
    cursor_param: str = "cursor"
    stop: Finder | None = None
    page_size: int = 0
    #: A page without records sends its cursor too (dlt's, without ``stop_after_empty_page``).
    empty_pages_go_on: bool = False
    prefetchable: ClassVar[bool] = False

    def new_paginator(self, of: StreamPages) -> BaseAPIPaginator[Any]:  # noqa: D102
        paginator = CursorPaginator(
            find=self.find,
            stop=self.stop,
            stream=of.stream,
            records_key=of.records_key,
            primary_keys=of.primary_keys,
        )
        paginator.empty_pages_go_on = self.empty_pages_go_on
        return paginator

    def url_params(self, token: Any, page_size: int) -> dict[str, Any]:  # noqa: D102
        return {self.cursor_param: token} if token else {}
