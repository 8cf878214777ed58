"""The one REST stream base class every source's streams derive from.

A stream class only declares attributes (``name``, ``path``, ``records_key``,
``primary_keys``, ``paging``); everything else is said once, from the source the tap
is configured for, in layers of one concern each:

* ``stream/incremental.py``: what one run reads (bookmarks, windows, deletions);
* ``stream/retrying.py``: how requests are retried (the source's policy, the rate gate);
* ``stream/widening.py``: values the schema does not allow, and the SCHEMA messages;
* here: requests (URL, authentication, paging, deadlines), responses (status,
  records, guards) and the records' way out (a page at a time, ``stream/page_loop.py``).
"""

from __future__ import annotations

import importlib.metadata
from functools import cached_property
from http import HTTPStatus
from itertools import chain
from operator import methodcaller
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.schema.source import SchemaDirectory
from typing_extensions import override

from tap_generic_rest import interrupt
from tap_generic_rest.cli.logs import quiet_expected_failures
from tap_generic_rest.errors import ResponseShapeError
from tap_generic_rest.http import transport
from tap_generic_rest.http.body import (
    BodyNotJSONError,
    json_body,
    mark_split,
    select_records,
    split_of,
)
from tap_generic_rest.paging import Paging, SinglePage, StreamPages
from tap_generic_rest.paging.guards import PageGuard
from tap_generic_rest.records.drift import json_type
from tap_generic_rest.records.writer import FastSingerWriter, gc_tuned_for_streaming
from tap_generic_rest.redact import excerpt, redact
from tap_generic_rest.source import source_of
from tap_generic_rest.stream import page_loop
from tap_generic_rest.stream.page_loop import pages_one_by_one
from tap_generic_rest.stream.prefetch import (
    DEFAULT_MAX_CONCURRENT_REQUESTS,
    Prefetcher,
    worker_session,
)
from tap_generic_rest.stream.schemas import SourceStreamSchema, schemas_dir
from tap_generic_rest.stream.writing import WritingStream

if TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterable, Iterator

    import requests
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context
    from singer_sdk.pagination import BaseAPIPaginator

    from tap_generic_rest.source import Source
    from tap_generic_rest.stream.replication import StartValueFormat

AUTH_FAILURES = frozenset({HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN})
_BODY_EXCERPT = 200


def _version() -> str:
    try:
        return importlib.metadata.version("tap-generic-rest")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


def _json_kind(value: Any) -> str:
    """``[1]`` -> ``"array"``: what a decoded JSON value is, in JSON's words (not Schema's)."""
    kind = json_type(value)
    return "number" if kind == "integer" else kind


class GenericRestStream(WritingStream):
    """Base stream: behaviour comes from the configured :class:`Source`."""

    #: Dotted path of the list of records in a response body (the seed's data_selector).
    records_key: ClassVar[str]
    #: How the stream pages; one request by default.
    paging: ClassVar[Paging] = SinglePage()
    #: Incremental streams: the query parameter that carries the start value (the window's
    #: start: see ``IncrementalStream.read_window``); ``replication_key`` names the field.
    start_param: ClassVar[str | None] = None
    #: The form the API wants the start value in (a spec's ``start_value_format``); None: as is.
    start_value_format: ClassVar[StartValueFormat | None] = None

    schema = SourceStreamSchema(SchemaDirectory(schemas_dir()))
    #: Wraps each new paginator: how the probe (tap_generic_rest.probe) watches paging
    #: decisions and stops after a few pages. None in a sync.
    watch_paginator: Callable[[BaseAPIPaginator[Any]], BaseAPIPaginator[Any]] | None = None
    #: The fast record path while a sync by page uses it (``page_loop.sync_by_page``).
    # A redirect could forward our custom auth headers to another host; fail instead.
    allow_redirects = False

    def __init__(self, tap: Tap) -> None:
        self.source: Source = source_of(tap)
        super().__init__(tap=tap)
        # A session whose connections the request deadline can cut (see http/transport.py).
        self._requests_session = transport.new_session()
        #: The current paginator's guards, checked on each page before its records are used.
        self._page_guard: PageGuard | None = None
        quiet_expected_failures(self.logger)

    # --- request building -------------------------------------------------------

    @override
    @property
    def url_base(self) -> str:
        return str(self.config.get("base_url") or self.source.base_url).rstrip("/")

    @override
    @property
    def authenticator(self) -> Any:
        return self._tap.authenticator  # type: ignore[attr-defined]

    @property
    def page_size(self) -> int:
        """The ``page_size`` setting, else the seed's page size for this stream."""
        return int(self.config.get("page_size") or self.paging.page_size)

    @override
    @cached_property
    def user_agent(self) -> str:
        return str(self.config.get("user_agent") or f"tap-generic-rest/{_version()}")

    @override
    @property
    def timeout(self) -> float:  # type: ignore[override]  # requests takes fractions
        return self.limits.timeout

    @cached_property
    def limits(self) -> transport.Limits:
        """The deadline and size cap of every request (``request_timeout``, ``max_response_mb``)."""
        return transport.Limits.from_config(self.config)

    @override
    @staticmethod
    def _url_encode(val: Any) -> str:
        # A value filled into the path ({avatar_type}) is one path segment: encoded whole,
        # so that '?', '#' or '/' in it cannot rewrite the request.
        return quote(val, safe="") if isinstance(val, str) else str(val)

    @override
    def get_new_paginator(self) -> BaseAPIPaginator[Any]:
        paginator = self.paging.new_paginator(
            StreamPages(
                stream=self.name,
                records_key=self.records_key,
                page_size=self.page_size,
                origin=self._tap.origin,  # type: ignore[attr-defined]
                primary_keys=self.primary_keys or (),
            )
        )
        self._page_guard = paginator if isinstance(paginator, PageGuard) else None
        return paginator if self.watch_paginator is None else self.watch_paginator(paginator)

    @override
    def get_url_params(self, context: Context | None, next_page_token: Any) -> dict[str, Any]:
        params = self.paging.url_params(next_page_token, self.page_size)
        params.update(self.change_params())  # on every page: next URLs carry it anyway
        if self.start_param:  # a spec's incremental (see spec/compile.py)
            start = self.start_value(context)
            if start is not None:
                params[self.start_param] = start
        return params

    def start_value(self, context: Context | None) -> Any:
        """Where a spec's incremental stream starts, in the form its API wants."""
        return self.in_start_form(self.start_bound(context))

    def start_bound(self, context: Context | None) -> Any:
        """Where a spec's incremental stream starts, in the records' own form.

        The run's window's start (lag and lookback applied): the request asks for what
        the record filter keeps. Before the window is decided (a first page read to infer
        the schema), the window it would be.
        """
        window = self.window if self.window is not None else self.read_window(context)
        return None if window is None else window.since_value

    def in_start_form(self, value: Any) -> Any:
        """``value`` in the form the API wants (``start_value_format``), else as it is."""
        form = self.start_value_format
        return value if form is None or value is None else form.render(value, self.key_numbers)

    @override
    def get_http_request(self, *, page: Any) -> Any:
        request = super().get_http_request(page=page)
        token = page.next_page_token
        if hasattr(token, "geturl"):  # a next-page URL, used as the server wrote it
            request.url = token.geturl()
            request.params = {}
        return request

    # --- fetching pages ---------------------------------------------------------

    @property
    def max_concurrent_requests(self) -> int:
        """Pages fetched at once where the paging allows it; 1 fetches one at a time."""
        value = self.config.get("max_concurrent_requests")
        return DEFAULT_MAX_CONCURRENT_REQUESTS if value is None else int(value)

    @override
    @property
    def requests_session(self) -> requests.Session:
        # A page-fetching worker thread sends on its own session, never the shared one.
        return worker_session() or super().requests_session

    @override
    def _request(
        self, prepared_request: requests.PreparedRequest, context: Context | None
    ) -> requests.Response:
        """The SDK's one request, sent within the deadline and the size cap (http/transport.py)."""
        self.stats.request()  # every try of the sequential loop and of the prefetcher
        authenticated = self.authenticator(prepared_request)
        path = (authenticated.path_url or self.path).split("?", 1)[0]
        response = transport.send(
            self.requests_session,
            authenticated,
            limits=self.limits,
            allow_redirects=self.allow_redirects,
            label=f"stream '{self.name}': {authenticated.method} {path}",
        )
        self._write_request_duration_log(
            endpoint=self.path,
            response=response,
            context=context,
            extra_tags={"url": authenticated.path_url} if self._LOG_REQUEST_METRIC_URLS else None,
        )
        if self.raw_records is not None:  # json_body tries the fast record path's split first
            mark_split(response, self.raw_records.split)
        self.validate_response(response)
        return response

    @override
    def request_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        return chain.from_iterable(self.request_pages(context))

    def request_pages(self, context: Context | None) -> Iterator[list[dict[str, Any]]]:
        """The pages' records: fetched ahead where the paging allows it, else one by one."""
        workers = self.max_concurrent_requests
        # A watched run (the probe) stops after a few pages: a page fetched ahead would be
        # a request it never meant to make.
        if workers > 1 and self.paging.prefetchable and self.watch_paginator is None:
            return Prefetcher(self, context, workers).pages()
        return pages_one_by_one(self, context)

    # --- the run's summary ------------------------------------------------------

    @override
    def log_sync_costs(self) -> None:
        """The SDK's end-of-sync hook, once per stream: this stream's summary line."""
        super().log_sync_costs()
        self._tap.summary.finish(self.name, list(self._tap.streams))  # type: ignore[attr-defined]

    # --- responses --------------------------------------------------------------

    @override
    def validate_response(self, response: requests.Response) -> None:
        status = response.status_code
        if status in AUTH_FAILURES:
            settings = ", ".join(self.source.auth.settings)
            msg = (
                f"{self._describe(response)}: the server refused the credentials; "
                f"check the settings {settings} (and base_url)"
            )
            raise FatalAPIError(msg)
        if status in self.retry_policy.statuses:
            raise RetriableAPIError(self.response_error_message(response), response)
        if HTTPStatus.MULTIPLE_CHOICES <= status < HTTPStatus.BAD_REQUEST:
            msg = (
                f"{self._describe(response)}: the server redirected the request; "
                "set base_url to the final address"
            )
            raise FatalAPIError(msg)
        if status >= HTTPStatus.BAD_REQUEST:
            raise FatalAPIError(self.response_error_message(response))
        if worker_session() is not None:
            return  # fetched ahead: decoded, and retried if it is not JSON, by the prefetcher
        try:
            json_body(response)
        except BodyNotJSONError as exc:
            # A truncated or garbled body on a 2xx is transient: the next try usually works.
            msg = (
                f"{self._describe(response)}: {exc}; expected JSON with a list of records "
                f"at '{self.records_key}'"
            )
            raise RetriableAPIError(msg, response) from None

    def _describe(self, response: requests.Response) -> str:
        path = response.request.path_url.split("?", 1)[0] if response.request else self.path
        return f"stream '{self.name}': {response.request.method} {path} -> {response.status_code}"

    @override
    def response_error_message(self, response: requests.Response) -> str:
        # Masked before it is cut short: a cut could leave part of a secret unmasked.
        body = excerpt(response.content, response.encoding, _BODY_EXCERPT)
        reason = f" {response.reason}" if response.reason else ""
        return redact(f"{self._describe(response)}{reason}: {body}")

    @override
    def parse_response(self, response: requests.Response) -> list[dict[str, Any]]:
        # A safe point to stop at: every record of the previous page is written by now.
        interrupt.check()
        records = select_records(response, self.records_key, self.name)
        split = split_of(response)
        if split is not None and not split.holds(records):
            split = None  # not the records the selector picks: checked as any page is
        self._check_records(response, records)
        # The paging guards run before any record of the page is emitted: a page that
        # repeats an earlier one fails the stream without a duplicate record, and
        # records that a change of the data moved into this page are dropped.
        if self._page_guard is not None:
            records = self._page_guard.check_page(response)
        if self.raw_records is not None:
            self.raw_records.took(split)
        if split is not None:  # the typed check vouched for every record: nothing to report
            self._to_conform = set()
            self.stats.page()
            return self.with_deletions(records, response)
        self._report_undeclared(records)
        # Before any record of the page is emitted: the first SCHEMA message waits for the
        # first page, so a target creates its columns with every type that page holds.
        # The page check says at once that the usual page has nothing to report.
        self._to_conform = set() if self._page_check(records) else self._flag_records(records)
        self.stats.page()
        return self.with_deletions(records, response)

    @property
    def keys_in_response(self) -> tuple[str, ...]:
        """The primary key fields each record must carry as served (not those the tap adds)."""
        return tuple(self.primary_keys or ())

    def _check_records(self, response: requests.Response, records: list[Any]) -> None:
        """Fail on a record that is not an object or lacks its primary key, before any is used.

        Such a record cannot be merged by a target, and emitting the rest of the page
        would hide the problem.
        """
        keys = self.keys_in_response
        if set(map(type, records)) <= {dict} and not any(
            None in map(methodcaller("get", key), records) for key in keys
        ):
            return  # the usual page, without a loop in Python
        for position, record in enumerate(records, start=1):
            if record.__class__ is not dict:
                problem = f"is a JSON {_json_kind(record)}, not an object"
            else:
                missing = [key for key in keys if record.get(key) is None]
                if not missing:
                    continue
                problem = f"has its primary key {', '.join(missing)} missing or null"
            msg = (
                f"stream '{self.name}': record {position} of the page from "
                f"{self._describe(response)} {problem}; no record of that page was emitted"
            )
            raise ResponseShapeError(msg)

    # --- emitting records ---------------------------------------------------------

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        return chain.from_iterable(self.get_pages(context))

    def get_pages(self, context: Context | None) -> Iterator[list[dict[str, Any]]]:
        """The stream's pages of records, the garbage collector tuned for streaming meanwhile.

        However the pages stop (the end, an error, a record limit), the record lines
        the fast writer has gathered are written out.
        """
        # After the SDK wrote the run's starting value, before the first request.
        self.begin_window(context)
        try:
            with gc_tuned_for_streaming(), self.stats.running():
                yield from self.request_pages(context)
        finally:
            if self.raw_records is not None:
                self.raw_records.close()
            writer = self._tap.message_writer
            if isinstance(writer, FastSingerWriter):
                writer.write_pending()

    @override
    def _sync_records(
        self, context: Context | None = None, *, write_messages: bool = True
    ) -> Generator[dict[str, Any], Any, Any]:
        """The SDK's record loop, or the same loop a page at a time where it may (page_loop)."""
        if write_messages and self.selected and not page_loop.obstacle(self):
            return page_loop.sync_by_page(self, context)
        records = super()._sync_records(context, write_messages=write_messages)
        if write_messages or self.watch_paginator is not None:  # written, or a probe
            return records
        return self._counted(records)  # batch_config: the records go into batch files

    @override
    def generate_child_contexts(
        self, record: dict[str, Any], context: Context | None
    ) -> Iterable[Context | None]:
        # Without child streams the SDK would still copy every record as a child
        # context and hand it to a loop over no streams.
        if not self.child_streams:
            return ()
        return super().generate_child_contexts(record, context)
