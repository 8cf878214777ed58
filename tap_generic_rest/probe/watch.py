"""Watching a stream's own request loop: each exchange, each paging decision.

Nothing here fetches or decides anything. A requests response hook on the stream's
session records every exchange, retries and failures included, as it went over
the wire (authentication applied, secrets masked). :class:`WatchedPaginator`
wraps the stream's paginator (through ``GenericRestStream.watch_paginator``): it
passes every call on, notes after each page whether the paginator goes on (to
which page) or why it stopped (its ``end_reason``, from the one stop rule in
:mod:`tap_generic_rest.paging.offset`), and ends the loop after the page limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import ParseResult, parse_qsl, urlsplit

from singer_sdk.pagination import BaseAPIPaginator, SinglePagePaginator
from singer_sdk.pagination import OffsetPaginator as SDKOffsetPaginator
from typing_extensions import override

from tap_generic_rest.errors import ResponseShapeError
from tap_generic_rest.http.body import (
    BodyNotJSONError,
    BodyTooDeepError,
    json_body,
    select_records,
    server_message,
)
from tap_generic_rest.paging import page_end
from tap_generic_rest.probe.findings import example
from tap_generic_rest.redact import redact

if TYPE_CHECKING:
    import requests

    from tap_generic_rest.stream.base import GenericRestStream

_EXCHANGE_ATTR = "_tap_generic_rest_exchange"


class Decision(NamedTuple):
    """After a page: whether the paginator asks for another one, and why (or which)."""

    more: bool
    reason: str


@dataclass
class Exchange:
    """One request and its response, as sent and received."""

    method: str
    #: Path and query string, secrets masked.
    target: str
    status: int
    ms: int
    bytes: int
    #: Records at the stream's selector; None when the body holds no list there.
    records: int | None
    #: The paginator's verdict on this page (None for a response it never judged).
    decision: Decision | None = None
    #: What was wrong with a 2xx body (not JSON, no list at the selector).
    problem: str | None = None
    #: Whether the same request was sent again right after (the source's retry policy).
    retried: bool = False


class StreamWatch:
    """What one stream's request loops sent, received and decided."""

    def __init__(self, stream: GenericRestStream, max_pages: int) -> None:
        self.stream = stream
        self.max_pages = max_pages
        self.exchanges: list[Exchange] = []
        #: Whether a loop stopped at the page limit while its paginator wanted more.
        self.more_pages = False
        #: Query parameters of each loop's first request that paging did not add.
        self.filters: list[dict[str, str]] = []
        self._loop_start = 0

    def on_response(self, response: requests.Response, *_: Any, **__: Any) -> None:
        """The session's response hook: called for every response, retried ones too."""
        request = response.request
        records: int | None = None
        problem: str | None = None
        if response.ok:
            try:
                records = len(select_records(response, self.stream.records_key, self.stream.name))
            except BodyNotJSONError:
                problem = "body is not JSON"
            except BodyTooDeepError:
                problem = "body nested too deep, or a number too long, to decode"
            except ResponseShapeError:
                problem = f"no list of records at '{self.stream.records_key}'"
                said = server_message(json_body(response))
                if said:
                    problem += f"; the server said: {said}"
        target = redact(str(request.path_url))
        previous = self.exchanges[-1] if len(self.exchanges) > self._loop_start else None
        if previous is not None and previous.target == target and previous.decision is None:
            previous.retried = True
        exchange = Exchange(
            method=str(request.method),
            target=target,
            status=response.status_code,
            ms=round(response.elapsed.total_seconds() * 1000),
            bytes=len(response.content),
            records=records,
            problem=problem,
        )
        response.__dict__[_EXCHANGE_ATTR] = exchange
        self.exchanges.append(exchange)

    def watch(self, paginator: BaseAPIPaginator[Any]) -> BaseAPIPaginator[Any]:
        """Wrap the paginator of a new request loop (``watch_paginator``)."""
        self._end_loop()
        self._loop_start = len(self.exchanges)
        return WatchedPaginator(paginator, self)

    def finish(self) -> None:
        """Close the last request loop (call once the stream's records are consumed)."""
        self._end_loop()

    def judged(self, response: requests.Response, decision: Decision | None) -> None:
        """Note the paginator's decision on the page ``response`` carried."""
        exchange = response.__dict__.get(_EXCHANGE_ATTR)
        if exchange is not None:
            exchange.decision = decision

    def _end_loop(self) -> None:
        loop = self.exchanges[self._loop_start :]
        if not loop:
            return
        self.filters.append(self._filter(loop[0].target))
        last = loop[-1]
        # The SDK's loop stops on a page without records before asking the paginator.
        if last.decision is None and last.records == 0:
            last.decision = Decision(more=False, reason=str(page_end(0, 1, 0, None)))

    def _filter(self, target: str) -> dict[str, str]:
        """The first request's query, less what paging put there: the stream's filter."""
        stream = self.stream
        paging = set(stream.paging.url_params(None, stream.page_size))
        return {
            name: value
            for name, value in parse_qsl(urlsplit(target).query, keep_blank_values=True)
            if name not in paging and value != "****"  # a masked key is no filter
        }


class WatchedPaginator(BaseAPIPaginator[Any]):
    """Passes everything on to ``inner``; notes each decision; stops at the page limit."""

    def __init__(self, inner: BaseAPIPaginator[Any], watch: StreamWatch) -> None:
        super().__init__(None)
        self.inner = inner
        self.watch = watch

    @override
    @property
    def current_value(self) -> Any:
        return self.inner.current_value

    @override
    @property
    def finished(self) -> bool:
        return self._finished or self.inner.finished

    @override
    @property
    def count(self) -> int:
        return self.inner.count

    @override
    def continue_if_empty(self, response: requests.Response) -> bool:
        return self.inner.continue_if_empty(response)

    @override
    def has_more(self, response: requests.Response) -> bool:
        return self.inner.has_more(response)

    @override
    def get_next(self, response: requests.Response) -> Any:
        return self.inner.get_next(response)

    @override
    def advance(self, response: requests.Response) -> None:
        inner = self.inner
        inner.advance(response)
        self.watch.judged(response, decide(inner))
        if not inner.finished and inner.count >= self.watch.max_pages:
            self.watch.more_pages = True
            self._finished = True


def decide(paginator: BaseAPIPaginator[Any]) -> Decision:
    """What ``paginator`` decided on the page it just advanced over, in words."""
    if paginator.finished:
        if isinstance(paginator, SinglePagePaginator):
            return Decision(more=False, reason="the stream does not page")
        reason = getattr(paginator, "end_reason", None)
        return Decision(more=False, reason=reason or "the paginator gave no next page")
    token = paginator.current_value
    if isinstance(token, ParseResult):
        where = f"next URL {token.path}" + (f"?{token.query}" if token.query else "")
    elif isinstance(paginator, SDKOffsetPaginator):
        where = f"next page at offset {token}"
    elif isinstance(token, int):
        where = f"next page {token}"
    else:
        where = f"next page, token {example(token)}"
    if getattr(paginator, "confirming_short_page", False):
        where += ", to confirm the short page was the last"
    return Decision(more=True, reason=where)
