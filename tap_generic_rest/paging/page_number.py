"""Page numbers from a first page, stopping on an empty page, the total or the maximum."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from singer_sdk.pagination import (
    BaseAPIPaginator,
)
from typing_extensions import override

from tap_generic_rest.http.body import json_body, lookup, select_records
from tap_generic_rest.paging.guards import PageGuard
from tap_generic_rest.paging.shared import (
    StreamPages,
    as_int,
    no_more,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    import requests


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
        self.has_more_key: str | None = None
        self._reset_guard(primary_keys)

    @override
    def has_more(self, response: requests.Response) -> bool:
        self.check_page(response)
        if (
            not select_records(response, self.records_key, self.stream)
            and not self.empty_pages_go_on
        ):
            return False
        following = self.current_value + 1
        if self.has_more_key and no_more(lookup(json_body(response), self.has_more_key)):
            return False
        total = as_int(lookup(json_body(response), self.total_key)) if self.total_key else None
        if total is not None and following >= total + self.base_page:
            return False
        return self.maximum_page is None or following < self.maximum_page

    @override
    def get_next(self, response: requests.Response) -> int:
        return self.current_value + 1

    @override
    def _where(self, response: requests.Response) -> str:
        return f"at page {self.current_value}"


@dataclass(frozen=True)
class PageNumberPaging:
    """Page numbers in ``page_param`` (dlt's ``page_number``)."""

    page_param: str = "page"
    base_page: int = 0
    start: int | None = None
    total_key: str | None = "total"
    maximum_page: int | None = None
    page_size: int = 0
    #: Where the body says whether more pages follow (dlt's ``has_more_path``).
    has_more_key: str | None = None
    #: dlt's ``stop_after_empty_page``: False pages on past an empty page (to the total).
    stop_after_empty_page: bool = True
    prefetchable: ClassVar[bool] = False

    def new_paginator(self, of: StreamPages) -> BaseAPIPaginator[Any]:  # noqa: D102
        paginator = PageNumberPaginator(
            start=self.base_page if self.start is None else self.start,
            base_page=self.base_page,
            total_key=self.total_key,
            maximum_page=self.maximum_page,
            stream=of.stream,
            records_key=of.records_key,
            primary_keys=of.primary_keys,
        )
        paginator.has_more_key = self.has_more_key
        paginator.empty_pages_go_on = not self.stop_after_empty_page
        return paginator

    def url_params(self, token: Any, page_size: int) -> dict[str, Any]:  # noqa: D102
        first = self.base_page if self.start is None else self.start
        return {self.page_param: first if token is None else token}
