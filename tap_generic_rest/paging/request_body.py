"""Paging inside the request body: POST search endpoints that take the page in their JSON.

dlt's offset, page-number and cursor paginators can write their value into the JSON body
(``offset_body_path``, ``limit_body_path``, ``page_body_path``, ``cursor_body_path``)
instead of the query. :class:`BodyPaging` wraps any paging spec and moves the parameters it
names from the query into the body at dotted paths; the paginator itself, its stop rules
and its guards, are the wrapped spec's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from singer_sdk.pagination import BaseAPIPaginator

    from tap_generic_rest.paging.shared import Paging, StreamPages


def set_at(body: dict[str, Any], path: str, value: Any) -> None:
    """Write ``value`` at the dotted ``path`` of ``body``, making objects on the way (as dlt)."""
    parts = path.split(".")
    target = body
    for part in parts[:-1]:
        nested = target.get(part)
        if not isinstance(nested, dict):
            nested = target[part] = {}
        target = nested
    target[parts[-1]] = value


@dataclass(frozen=True)
class BodyPaging:
    """``inner`` paging with the query parameters in ``moved`` sent in the JSON body instead.

    ``moved`` maps a parameter name of ``inner`` (``offset``) to its body path
    (``page.offset``).
    """

    inner: Paging
    moved: tuple[tuple[str, str], ...]

    #: One page at a time: a POST search is not asked for pages ahead of the one read.
    prefetchable: ClassVar[bool] = False

    @property
    def page_size(self) -> int:  # noqa: D102
        return self.inner.page_size

    def new_paginator(self, of: StreamPages) -> BaseAPIPaginator[Any]:  # noqa: D102
        return self.inner.new_paginator(of)

    def url_params(self, token: Any, page_size: int) -> dict[str, Any]:  # noqa: D102
        names = {name for name, _ in self.moved}
        return {k: v for k, v in self.inner.url_params(token, page_size).items() if k not in names}

    def body_values(self, token: Any, page_size: int) -> dict[str, Any]:
        """The values to write into the body, by dotted path."""
        params = self.inner.url_params(token, page_size)
        return {path: params[name] for name, path in self.moved if name in params}
