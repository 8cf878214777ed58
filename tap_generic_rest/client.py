"""The one REST stream base class every source's streams derive from.

A stream class only declares attributes (``name``, ``path``, ``records_key``,
``primary_keys``, ``paging``); everything else (URL, authentication, retries,
paging, record selection, schema loading) is said once here, from the source the
tap is configured for.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.metadata
import importlib.resources
import logging
from functools import cached_property
from http import HTTPStatus
from itertools import chain, filterfalse, repeat
from operator import methodcaller
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import quote

import backoff
import requests
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.helpers._catalog import get_selected_schema
from singer_sdk.schema.source import SchemaDirectory, StreamSchema
from typing_extensions import override

from tap_generic_rest import interrupt, page_loop, transport
from tap_generic_rest.checks import (
    CONFORM,
    DRIFT,
    PageCheck,
    compile_page_check,
    compile_record_check,
)
from tap_generic_rest.drift import find_drift, json_type, widen
from tap_generic_rest.emit import FastSingerWriter, RecordEmitter, gc_tuned_for_streaming
from tap_generic_rest.errors import ResponseShapeError
from tap_generic_rest.guards import PageGuard
from tap_generic_rest.incremental import DELETED_AT, DELETED_AT_SCHEMA, Incremental
from tap_generic_rest.incremental_stream import IncrementalStream
from tap_generic_rest.logs import quiet_expected_failures
from tap_generic_rest.page_loop import pages_one_by_one
from tap_generic_rest.pagination import Paging, SinglePage
from tap_generic_rest.payload import BodyNotJSONError, json_body, select_records
from tap_generic_rest.prefetch import (
    DEFAULT_MAX_CONCURRENT_REQUESTS,
    FetchCancelledError,
    Prefetcher,
    worker_cancelled,
    worker_fetcher,
    worker_session,
)
from tap_generic_rest.redact import excerpt, redact

if TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterable, Iterator

    from backoff.types import Details
    from singer_sdk.helpers.types import Context
    from singer_sdk.pagination import BaseAPIPaginator

    from tap_generic_rest.prefetch import RateGate
    from tap_generic_rest.registry import Source
    from tap_generic_rest.retry import RetryPolicy
    from tap_generic_rest.summary import StreamStats
    from tap_generic_rest.tap import TapGenericRest

AUTH_FAILURES = frozenset({HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN})
_BODY_EXCERPT = 200
_WAIT_REASON = "_tap_generic_rest_wait_reason"
_WAIT_SECONDS = "_tap_generic_rest_wait_seconds"

#: Failures retried whatever the status policy says: the network, and bodies cut short
#: (a Content-Length larger than the body raises ChunkedEncodingError in requests).
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    ConnectionResetError,
    RetriableAPIError,
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


def _version() -> str:
    try:
        return importlib.metadata.version("tap-generic-rest")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


def schemas_dir() -> Path:
    """The schema folder: inside the installed package, or the repository's top level."""
    packaged = importlib.resources.files("tap_generic_rest") / "schemas"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent / "schemas"


class SourceStreamSchema(StreamSchema[str]):
    """Loads ``schemas/<source>/<stream>.json`` for the stream it is read from.

    Each stream gets its own copy: a stream widens its schema when the server sends
    a type it does not allow (``GenericRestStream.admit``), and that must not leak
    into another stream or another run in the same process.
    """

    @override
    def get_stream_schema(self, stream: Any, stream_class: Any) -> dict[str, Any]:
        own: dict[str, Any] | None = stream.__dict__.get("_own_schema")
        if own is None:
            own = stream.__dict__["_own_schema"] = copy.deepcopy(
                self.schema_source.get_schema(
                    f"{stream.source_name}/{stream.name}", key_properties=stream.primary_keys
                )
            )
            spec: Incremental | None = getattr(stream_class, "incremental", None)
            if spec is not None and spec.deletions:
                # Deleted records carry the Singer deletion field: declared, so targets see it.
                own["properties"].setdefault(DELETED_AT, dict(DELETED_AT_SCHEMA))
        return own


def _json_kind(value: Any) -> str:
    """``[1]`` -> ``"array"``: what a decoded JSON value is, in JSON's words (not Schema's)."""
    kind = json_type(value)
    return "number" if kind == "integer" else kind


class GenericRestStream(IncrementalStream):
    """Base stream: behaviour comes from the configured :class:`Source`."""

    #: Name of the source module that declares the stream (its schema folder).
    source_name: ClassVar[str]
    #: Dotted path of the list of records in a response body (the seed's data_selector).
    records_key: ClassVar[str]
    #: How the stream pages; one request by default.
    paging: ClassVar[Paging] = SinglePage()
    #: The stream's own retry policy, where it differs from its source's (a spec endpoint's).
    retry: ClassVar[RetryPolicy | None] = None
    #: Incremental streams: the query parameter that carries the start value (the
    #: bookmark, else ``initial_value``); ``replication_key`` names the record's field.
    start_param: ClassVar[str | None] = None
    initial_value: ClassVar[Any] = None

    schema = SourceStreamSchema(SchemaDirectory(schemas_dir()))
    #: Wraps each new paginator: how the probe (tap_generic_rest.probe) watches paging
    #: decisions and stops after a few pages. None in a sync.
    watch_paginator: Callable[[BaseAPIPaginator[Any]], BaseAPIPaginator[Any]] | None = None
    # A redirect could forward our custom auth headers to another host; fail instead.
    allow_redirects = False

    def __init__(self, tap: TapGenericRest) -> None:
        self.source: Source = tap.source
        super().__init__(tap=tap)
        # A session whose connections the request deadline can cut (see transport.py).
        self._requests_session = transport.new_session()
        self._declared = frozenset(self.schema.get("properties", {}))
        self._reported_undeclared: set[str] = set()
        #: The current paginator's guards, checked on each page before its records are used.
        self._page_guard: PageGuard | None = None
        #: The SCHEMA message waits for the first record (see :meth:`sync`).
        self._schema_held = False
        self._schema_pending = False
        self._version_pending: int | None = None
        #: ids of the current page's records the SDK's conformance could change.
        self._to_conform: set[int] = set()
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
            records_key=self.records_key,
            page_size=self.page_size,
            origin=self._tap.origin,  # type: ignore[attr-defined]
            stream=self.name,
            primary_keys=self.primary_keys or (),
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
        """Where a spec's incremental stream starts: its bookmark, else ``initial_value``."""
        if not self.replication_key:
            return None
        bookmark = self.get_starting_replication_key_value(context)
        return self.initial_value if bookmark is None else bookmark

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

    @property
    def rate_gate(self) -> RateGate:
        """The tap's gate: a wait the source asks of one request holds back all of them."""
        gate: RateGate = self._tap.rate_gate  # type: ignore[attr-defined]
        return gate

    @override
    @property
    def requests_session(self) -> requests.Session:
        # A page-fetching worker thread sends on its own session, never the shared one.
        return worker_session() or super().requests_session

    @override
    def _request(
        self, prepared_request: requests.PreparedRequest, context: Context | None
    ) -> requests.Response:
        """The SDK's one request, sent within the deadline and the size cap (transport.py)."""
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

    def hold_source(self, exception: BaseException | None, wait: float) -> None:
        """Make a retry on a status the policy lists (429, 420...) hold back every request.

        A page fetched ahead holds on behalf of its fetcher: the hold is lifted when
        the stream's end is known and the page abandoned.
        """
        response = getattr(exception, "response", None)
        if response is not None and response.status_code in self.retry_policy.statuses:
            self.rate_gate.hold(wait, owner=worker_fetcher())

    # --- the run's summary ------------------------------------------------------

    @cached_property
    def stats(self) -> StreamStats:
        """This stream's counters in the run's summary."""
        return self._tap.summary.stream(self.name)  # type: ignore[attr-defined,no-any-return]

    @override
    def log_sync_costs(self) -> None:
        """The SDK's end-of-sync hook, once per stream: this stream's summary line."""
        super().log_sync_costs()
        self._tap.summary.finish(self.name, list(self._tap.streams))  # type: ignore[attr-defined]

    # --- responses --------------------------------------------------------------

    @property
    def retry_policy(self) -> RetryPolicy:
        """The stream's retry policy: its own if it declares one, else its source's."""
        return self.retry or self.source.retry

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
        self._check_records(response, records)
        # The paging guards run before any record of the page is emitted: a page that
        # repeats an earlier one fails the stream without a duplicate record, and
        # records that a change of the data moved into this page are dropped.
        if self._page_guard is not None:
            records = self._page_guard.check_page(response)
        self._report_undeclared(records)
        # Before any record of the page is emitted: the first SCHEMA message waits for the
        # first page, so a target creates its columns with every type that page holds.
        # The page check says at once that the usual page has nothing to report.
        self._to_conform = set() if self._page_check(records) else self._flag_records(records)
        self.stats.page()
        return self.with_deletions(records, response)

    def _check_records(self, response: requests.Response, records: list[Any]) -> None:
        """Fail on a record that is not an object or lacks its primary key, before any is used.

        Such a record cannot be merged by a target, and emitting the rest of the page
        would hide the problem.
        """
        keys = self.primary_keys or ()
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

    @override
    def post_process(  # None drops the record, as the SDK allows
        self, row: dict[str, Any], context: Context | None = None
    ) -> dict[str, Any] | None:
        if self.record_filter is not None and not self.record_filter(row):
            return None  # changed before the bookmark: the API could not leave it out
        return row

    def _report_undeclared(self, records: list[dict[str, Any]]) -> None:
        """Warn once per field about fields the schema does not declare (they pass through)."""
        known = self._declared | self._reported_undeclared
        if all(map(known.issuperset, records)):  # the usual page, without a loop in Python
            return
        if self.record_filter is not None:  # only the records that will be written
            records = list(filter(self.record_filter, records))
        undeclared = set().union(
            *(record.keys() - self._declared for record in filterfalse(known.issuperset, records))
        )
        if undeclared:
            self._reported_undeclared |= undeclared
            self.logger.warning(
                "stream '%s': fields not in %s are passed through undeclared: %s",
                self.name,
                self.schema_origin,
                ", ".join(sorted(undeclared)),
            )

    # --- values the schema does not allow ------------------------------------------

    @cached_property
    def _record_check(self) -> Any:
        """The schema's per-record drift and conformance test (rebuilt when the schema widens)."""
        return compile_record_check(self.effective_schema)

    @cached_property
    def _page_check(self) -> PageCheck:
        """Whether no record of a page needs the record check (rebuilt when the schema widens)."""
        return compile_page_check(self.effective_schema)

    def _flag_records(self, records: list[dict[str, Any]]) -> set[int]:
        """Widen the schema for the page's drift; the records the SDK's conformance could change.

        Returned as ids: the page's records are alive until the next page is parsed,
        after its last record is written.
        """
        flags = list(map(self._record_check, records))
        drifted = [record for record, flag in zip(records, flags, strict=True) if flag & DRIFT]
        if drifted:
            self.admit(drifted)
            flags = list(map(self._record_check, records))  # the widened schema's check
        return {id(record) for record, flag in zip(records, flags, strict=True) if flag & CONFORM}

    def admit(self, records: list[dict[str, Any]]) -> None:
        """Widen the schema to admit every value of ``records``; say so in one new SCHEMA.

        The value is never changed or dropped: a target that validates records then
        accepts it, and the SDK's conformance no longer coerces it (a string in a
        boolean field would otherwise arrive as true). One warning per field and type.
        Drift on the first page widens the first SCHEMA message itself (it waits for
        that page); later drift sends a new SCHEMA before the record that needs it,
        which a target must be able to apply to a table it created already.
        """
        schema = self.effective_schema
        widened = [
            drift
            for record in records
            for drift in find_drift(record, schema)
            if widen(schema, drift)
        ]
        if not widened:
            return
        if self.schema is not schema:  # a catalog's schema: keep the stream's own in step
            for drift in widened:
                widen(self.schema, drift)
        for drift in widened:
            self.logger.warning(
                "stream '%s': field '%s' is declared %s but the server sent %s; the field's "
                "type is widened (a new SCHEMA message comes before the record), the value kept",
                self.name,
                drift.field,
                "/".join(drift.declared),
                drift.seen,
            )
        # The stream maps hold the schema the SCHEMA message is made of; the record path
        # compiled its checks from it.
        self._tap.mapper.register_raw_stream_schema(
            self.name,
            get_selected_schema(self.name, copy.deepcopy(schema), self.mask),
            self.primary_keys,
        )
        self._stream_maps = []
        self.__dict__.pop("_record_check", None)
        self.__dict__.pop("_page_check", None)
        self.__dict__.pop("record_emitter", None)
        self._write_schema_message()

    # --- the first SCHEMA waits for the first page -----------------------------------

    # The SDK marks sync() final, but has no hook between "a sync starts" and "its SCHEMA
    # message is written"; this override only brackets the SDK's own sync.
    @override  # type: ignore[misc]
    def sync(self, context: Context | None = None) -> None:
        """Sync, with the SCHEMA (and ACTIVATE_VERSION) message held until the first record.

        By then the first page has been checked for values the schema does not allow,
        and the schema widened for them: a target that cannot alter a column once it has
        created it (target-postgres) creates it with the right type. A stream with no
        record, or one that fails, still sends its SCHEMA message at the end.
        """
        self._schema_held = True
        try:
            super().sync(context)
        finally:
            self._release_schema()

    @override
    def _write_schema_message(self) -> None:
        if self._schema_held:
            self._schema_pending = True
            return
        super()._write_schema_message()

    @override
    def _write_activate_version_message(self, full_table_version: int) -> None:
        if self._schema_held:
            self._version_pending = full_table_version
            return
        super()._write_activate_version_message(full_table_version)

    def _release_schema(self) -> None:
        """Write the held SCHEMA and ACTIVATE_VERSION messages, in that order, once."""
        if not self._schema_held:
            return
        self._schema_held = False
        if self._schema_pending:
            self._schema_pending = False
            super()._write_schema_message()
        version = self._version_pending
        if version is not None:
            self._version_pending = None
            super()._write_activate_version_message(version)

    @property
    def schema_origin(self) -> str:
        """Where the stream's schema comes from, as a user would look for it."""
        return f"schemas/{self.source_name}/{self.name}.json"

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
        return super()._sync_records(context, write_messages=write_messages)

    def post_process_page(
        self, records: list[dict[str, Any]], context: Context | None
    ) -> list[dict[str, Any]]:
        """``post_process`` over a page: the records it keeps, in order."""
        if type(self).post_process is GenericRestStream.post_process:  # the filter alone
            keep = self.record_filter
            return records if keep is None else list(filter(keep, records))
        kept = map(self.post_process, records, repeat(context))
        return [record for record in kept if record is not None]

    def write_records(self, records: list[dict[str, Any]], context: Context | None) -> None:
        """Write a page's RECORD messages and advance the bookmark over them (page_loop).

        What the SDK's loop does per record, once for them all; where the bookmark can
        only be advanced record by record (a sort error to raise after the record that
        breaks the order), record by record.
        """
        self.stats.records += len(records)
        if self._schema_held:
            self._release_schema()
        conform = self._to_conform
        if self._partitioned:  # the partition's keys were added since the page was checked
            conform = conform | {id(r) for r in records if self._record_check(r) & CONFORM}
        sdk_write = super()._write_record_message
        if self.advance_bookmark(records):
            self.record_emitter.write_page(records, conform, sdk_write)
            self.state_manager.is_flushed = False
            return
        for record in records:
            if not self.record_emitter.write(record, conform=id(record) in conform):
                sdk_write(record)
            self.state_manager.is_flushed = False
            self._increment_stream_state(record, context=context)

    @override
    def generate_child_contexts(
        self, record: dict[str, Any], context: Context | None
    ) -> Iterable[Context | None]:
        # Without child streams the SDK would still copy every record as a child
        # context and hand it to a loop over no streams.
        if not self.child_streams:
            return ()
        return super().generate_child_contexts(record, context)

    @cached_property
    def _partitioned(self) -> bool:
        """Whether the SDK copies partition keys into records after their page was checked."""
        return bool(self.partitions)

    @cached_property
    def record_emitter(self) -> RecordEmitter:
        """Writes this stream's RECORD messages; built at the first record of the sync."""
        return RecordEmitter(self)

    @override
    def _write_record_message(self, record: dict[str, Any]) -> None:
        """Write the record through the fast path, or the SDK's when it cannot be exact."""
        self.stats.records += 1
        if self._schema_held:
            self._release_schema()
        conform = id(record) in self._to_conform
        if self._partitioned and not conform:  # the SDK added the partition's keys since
            conform = bool(self._record_check(record) & CONFORM)
        if self.record_emitter.write(record, conform=conform):
            self.state_manager.is_flushed = False
        else:
            super()._write_record_message(record)

    # --- retries ----------------------------------------------------------------

    @cached_property
    def max_wait_seconds(self) -> float:
        """Cap on any single wait between retries."""
        value = self.config.get("max_wait_seconds")
        return 300.0 if value is None else float(value)

    @override
    def backoff_max_tries(self) -> int:
        retries = self.config.get("max_retries")
        return 1 + (self.retry_policy.max_retries if retries is None else int(retries))

    @override
    def request_decorator(self, func: Any) -> Any:
        """Retry ``func`` on the SDK's transient failures, by the source's policy.

        The same hooks and transient exceptions as the SDK's, without the backoff
        library's own log line: :meth:`backoff_handler` writes the one line per retry
        and waits, where a signal or an abandoned page can end the wait (backoff's
        own sleep cannot be cut short: it is given nothing to sleep).
        """
        retried = backoff.on_exception(
            self._waits_for_handler,
            TRANSIENT_ERRORS,
            max_tries=self.backoff_max_tries,
            on_backoff=self.backoff_handler,
            jitter=None,
            logger=None,
        )(func)

        def send(*args: Any, **kwargs: Any) -> Any:
            with interrupt.interruptible():  # nothing is written meanwhile: stop at once
                return retried(*args, **kwargs)

        return send

    def _waits_for_handler(self) -> Generator[float, Any, None]:
        """The policy's waits, kept on each exception for the handler; backoff sleeps 0."""
        waits = self.backoff_wait_generator()
        exception = yield next(waits)
        while True:
            wait = self.backoff_jitter(waits.send(exception))
            with contextlib.suppress(AttributeError):
                setattr(exception, _WAIT_SECONDS, wait)
            exception = yield 0.0

    @override
    def backoff_wait_generator(self) -> Generator[float, Any, None]:
        retry_number = 0
        exception = yield 0.0  # primed by backoff; the first real value follows a failure
        while True:
            retry_number += 1
            response = getattr(exception, "response", None)
            headers = response.headers if response is not None else None
            wait, reason = self.retry_policy.wait(retry_number, headers, self.max_wait_seconds)
            # Kept on the exception, which backoff hands to backoff_handler next:
            # requests of one stream may run in several threads.
            with contextlib.suppress(AttributeError):
                setattr(exception, _WAIT_REASON, reason)
            exception = yield wait

    @override
    def backoff_jitter(self, value: float) -> float:
        # Waits are exactly the policy's (or the server's): no jitter that could cut a hint.
        return value

    @override
    def backoff_handler(self, details: Details) -> None:
        exception = details.get("exception")
        cancelled = worker_cancelled()
        if cancelled is not None and cancelled.is_set():
            raise FetchCancelledError  # an abandoned page: no retry, no wait, no hold
        wait = float(getattr(exception, _WAIT_SECONDS, details.get("wait") or 0.0))
        response = getattr(exception, "response", None)
        failure = (
            f"status {response.status_code}"
            if response is not None
            else type(exception).__name__
            if exception
            else "failure"
        )
        # The path as sent (avatars fill in their type), never the query: it may hold a key.
        request = getattr(exception, "request", None) or getattr(response, "request", None)
        path = str(getattr(request, "path_url", "") or self.path).split("?", 1)[0]
        self.log(
            "stream '%s': %s on %s; retry %d of %d in %.2f s (wait from %s)",
            self.name,
            failure,
            path,
            details.get("tries", 0),
            self.backoff_max_tries() - 1,
            wait,
            getattr(exception, _WAIT_REASON, "backoff"),
            level=logging.WARNING,
        )
        self.stats.retry()
        self.hold_source(exception, wait)
        if interrupt.pause(wait, cancelled):
            raise FetchCancelledError
