"""The incremental side of every stream: the SDK's state turned into what one run reads.

:class:`IncrementalStream` sits between the SDK's ``RESTStream`` and the project's stream base:
it takes the replication key and method from the stream's :class:`Incremental` spec (or from
the catalog), decides the run's :class:`ReadWindow` once the SDK has written the starting value,
and hands the base class the request parameters, the record filter and the deletion records.
Bookkeeping per record is the SDK's ``increment_state``, called directly on the run's state
dict: the same semantics (progress markers for unsorted streams, sort checks for sorted ones)
without the lookups the SDK repeats for every record.
"""

from __future__ import annotations

import operator
from datetime import timedelta
from itertools import islice
from typing import TYPE_CHECKING, Any, ClassVar

from singer_sdk import RESTStream
from singer_sdk.helpers._state import increment_state
from singer_sdk.helpers._typing import to_json_compatible
from singer_sdk.singerlib.catalog import REPLICATION_INCREMENTAL
from typing_extensions import override

from tap_generic_rest.errors import InputFileError
from tap_generic_rest.http.body import json_body
from tap_generic_rest.stream.replication import STATE_EVERY, Incremental, ReadWindow, to_moment

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    import requests
    from singer_sdk.helpers.types import Context
    from singer_sdk.singerlib import Catalog


class IncrementalStream(RESTStream[Any]):
    """A REST stream that reads only what changed when its spec or its catalog says so."""

    #: How the API reads only what changed (None: full table unless a catalog says otherwise).
    incremental: ClassVar[Incremental | None] = None
    #: STATE at least this often, so an interrupted sorted stream resumes close to where it was.
    STATE_MSG_FREQUENCY = STATE_EVERY

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: What this run reads; None for a full-table run. Set before the first request.
        self.window: ReadWindow | None = None
        #: Drops records changed before the window where the API cannot filter; None: keep all.
        self.record_filter: Callable[[Mapping[str, Any]], bool] | None = None
        self._bookmark_gate: Callable[[Mapping[str, Any]], bool] | None = None
        self._bookmarks: dict[str, Any] | None = None
        self._sorted = False
        self._check_sorted = True
        if self.incremental is not None:  # a catalog applied later may change both
            self.replication_key = self.incremental.key
            self.forced_replication_method = REPLICATION_INCREMENTAL

    @override
    def apply_catalog(self, catalog: Catalog) -> None:
        super().apply_catalog(catalog)
        if self.replication_method == REPLICATION_INCREMENTAL and not self.replication_key:
            # INCREMENTAL without a key (an older catalog): the declared key, else full table.
            self.replication_key = self.incremental.key if self.incremental else None
            if not self.replication_key:
                self.forced_replication_method = None

    @property
    def _spec(self) -> Incremental | None:
        """The spec, when it is for the key this run replicates on (a catalog may change it)."""
        spec = self.incremental
        return spec if spec is not None and spec.key == self.replication_key else None

    @override
    @property
    def is_sorted(self) -> bool:
        """Sorted when the API sorts by the key: then the bookmark advances during the run."""
        spec = self._spec
        return (
            spec is not None
            and spec.sorted
            and spec.param is not None
            and self.replication_method == REPLICATION_INCREMENTAL
        )

    @property
    def key_numbers(self) -> Any:
        """What numeric values of the replication key count in (epoch seconds by default)."""
        spec = self._spec
        return spec.numbers if spec is not None else "epoch_s"

    def read_window(self, context: Context | None) -> ReadWindow | None:
        """What this run reads, from the SDK's starting value (bookmark or ``start_date``).

        None for a full-table run. ``lookback_seconds`` moves the start back.
        """
        key = self.replication_key
        if self.replication_method != REPLICATION_INCREMENTAL or not key:
            return None
        numbers = self.key_numbers
        # A bounded window (end_date) reads from start_date, whatever the bookmark says.
        frozen = self.bookmark_frozen
        value = (
            self.config.get("start_date")
            if frozen
            else self.get_starting_replication_key_value(context)
        )
        start = to_moment(value, numbers)
        if value is not None and start is None:
            msg = f"--state: the bookmark of stream '{self.name}' ({key}) is not a time: {value!r}"
            raise InputFileError(msg)
        lookback = float(self.config.get("lookback_seconds") or 0)
        since = start - timedelta(seconds=lookback) if start is not None else None
        end = to_moment(self.config.get("end_date"))
        return ReadWindow(key, since, start, self._spec, numbers, end)

    @property
    def bookmark_frozen(self) -> bool:
        """Whether this run reads a bounded window (``end_date``) and leaves the bookmark as it was.

        A backfill of one window then never moves the live bookmark, whichever state it
        runs with.
        """
        return bool(self.config.get("end_date"))

    def begin_window(self, context: Context | None) -> None:
        """Decide the run's window (after the SDK wrote its starting value, before requests)."""
        window = self.window = self.read_window(context)
        if window is None:
            self.record_filter = self._bookmark_gate = self._bookmarks = None
            return
        self.record_filter = window.keeps if window.needs_filter else None
        since, start = window.since, window.start
        lookback = since is not None and start is not None and since < start
        self._bookmark_gate = window.moves_bookmark if lookback else None
        self._bookmarks = self.state_manager.get_context_state(context)
        self._sorted = self.is_sorted and self.state_partitioning_keys is None  # as the SDK
        self._check_sorted = self.check_sorted

    def change_params(self) -> dict[str, str]:
        """Query parameters that ask the API for what changed (empty: everything)."""
        return self.window.params() if self.window is not None else {}

    def with_deletions(
        self, records: list[dict[str, Any]], response: requests.Response
    ) -> list[dict[str, Any]]:
        """The page's records, then the deletions it lists as ``_sdc_deleted_at`` records."""
        window = self.window
        if window is None or not window.deletions:
            return records
        deleted = window.deleted_records(json_body(response), self.primary_keys)
        return [*records, *deleted] if deleted else records

    @override
    def compare_start_date(self, value: str, start_date_value: str) -> str:
        """The later of the bookmark and ``start_date``, whatever form the key's values take."""
        bookmark = to_moment(value, self.key_numbers)
        start = to_moment(start_date_value)
        if bookmark is None or start is None:
            return value if start is None else start_date_value
        return value if bookmark >= start else start_date_value

    def advance_bookmark(self, records: list[dict[str, Any]]) -> bool:
        """Advance the bookmark over a page's records as one call per record would.

        False, with nothing changed, where only the calls record by record can be
        exact: outside a run's window, and where they would fail (the sort order
        broken, values that do not compare) after writing the records before.
        """
        if self.replication_method != REPLICATION_INCREMENTAL or self.bookmark_frozen:
            return True  # the per-record call changes nothing
        bookmarks = self._bookmarks
        key = self.replication_key
        if bookmarks is None or key is None:
            return False
        rows = [record for record in records if record.get(key) is not None]
        if self._bookmark_gate is not None:
            rows = list(filter(self._bookmark_gate, rows))
        if not rows:
            return True
        values = [row[key] for row in rows]
        latest = rows[-1]  # the last one counts unless the order is checked
        try:
            if self._check_sorted and self._sorted:
                previous = to_json_compatible(bookmarks.get("replication_key_value"))
                ordered = values if previous is None else [previous, *values]
                if not all(map(operator.le, ordered, islice(ordered, 1, None))):
                    return False
            elif self._check_sorted:  # unsorted: the greatest value counts
                latest = rows[values.index(max(values))]
        except TypeError:
            return False
        self._advance_to(bookmarks, key, latest)
        return True

    @override
    def _increment_stream_state(
        self, latest_record: dict[str, Any], *, context: Context | None = None
    ) -> None:
        if self.bookmark_frozen:
            return  # a bounded window leaves the bookmark as it was
        bookmarks = self._bookmarks
        key = self.replication_key
        if bookmarks is None or key is None:  # not in a run's window: the SDK's own way
            super()._increment_stream_state(latest_record, context=context)
            return
        # A record without the key, or read again in the lookback window, is emitted but
        # leaves the bookmark (the SDK would fail on a missing key, or on sort order).
        if latest_record.get(key) is None:
            return
        if self._bookmark_gate is not None and not self._bookmark_gate(latest_record):
            return
        self._advance_to(bookmarks, key, latest_record)

    def _advance_to(self, bookmarks: dict[str, Any], key: str, record: dict[str, Any]) -> None:
        """The SDK's own bookkeeping for ``record``, on the run's state dict."""
        increment_state(
            bookmarks,
            replication_key=key,
            latest_record=record,
            is_sorted=self._sorted,
            check_sorted=self._check_sorted,
        )
