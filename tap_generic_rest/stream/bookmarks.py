"""The bookmark's way forward: advanced over a page at once, or record by record as the SDK does.

:class:`BookmarkStream` sits on :class:`~tap_generic_rest.stream.incremental.IncrementalStream`
(which decides the run's window): bookkeeping per record is the SDK's ``increment_state``,
called directly on the run's state dict (the same semantics: progress markers for unsorted
streams, sort checks for sorted ones, without the lookups the SDK repeats per record), with
values compared in time (``replication.in_time_order``) where the SDK compares ISO times as
text, and only values of the key's one kind moving the bookmark.
"""

from __future__ import annotations

import operator
from itertools import islice
from operator import itemgetter
from typing import TYPE_CHECKING, Any, NoReturn

from singer_sdk.helpers._state import PROGRESS_MARKER_NOTE, PROGRESS_MARKERS, increment_state
from singer_sdk.helpers._typing import to_json_compatible
from singer_sdk.singerlib.catalog import REPLICATION_INCREMENTAL
from typing_extensions import override

from tap_generic_rest.errors import SortOrderError
from tap_generic_rest.stream.incremental import UNSORTED_NOTE, IncrementalStream
from tap_generic_rest.stream.replication import in_time_order, kind_of, kind_of_type

if TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


class BookmarkStream(IncrementalStream):
    """Advancing the bookmark over what was written, as the SDK's per-record calls would."""

    def _comparable(self, rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
        """The rows whose key value compares with the bookmark's; the others are noted.

        The bookmark takes the kind of the schema's type (else of its first value);
        a record whose value is of another kind is emitted, never compared.
        """
        # The kinds of the values' types (a few types, however many rows), at C speed.
        types = set(map(type, map(itemgetter(key), rows)))
        kinds = {kind for kind in map(kind_of_type, types) if kind is not None}
        if self._key_kind is None:
            self._key_kind = kind_of(rows[0][key])
        if kinds <= {self._key_kind}:
            return rows
        self._odd_kinds |= kinds - {self._key_kind}
        return [row for row in rows if kind_of(row[key]) == self._key_kind]

    @override
    def _finalize_state(self, state: dict[str, Any] | None = None) -> None:
        """The SDK's end of a stream (or partition), with what the run found odd, said once."""
        if self._odd_kinds:
            self.logger.warning(
                "stream '%s': field '%s' (the replication key) also holds %s values, which do "
                "not compare with its %s values: those records were emitted, and the bookmark "
                "advanced by the %s values only",
                self.name,
                self.replication_key,
                " and ".join(sorted(self._odd_kinds)),
                self._key_kind,
                self._key_kind,
            )
            self._odd_kinds = set()
        if self._unfiltered:
            self.logger.warning(
                "stream '%s': the server sent %d records changed before the bookmark although "
                "the request asked only for newer ones; they were dropped, as for an API that "
                "cannot filter",
                self.name,
                self._unfiltered,
            )
            self._unfiltered = 0
        super()._finalize_state(state)

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
        rows = self._comparable(rows, key) if rows else rows
        if not rows:
            return True
        values = [row[key] for row in rows]
        latest = rows[-1]  # the last one counts unless the order is checked
        try:
            if self._check_sorted and self._sorted:
                previous = to_json_compatible(bookmarks.get("replication_key_value"))
                ordered = in_time_order(values if previous is None else [previous, *values])
                if not all(map(operator.le, ordered, islice(ordered, 1, None))):
                    return False
            elif self._check_sorted:  # unsorted: the latest value counts
                timed = in_time_order(values)
                latest = rows[timed.index(max(timed))]
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
        if self._comparable([latest_record], key):
            self._advance_to(bookmarks, key, latest_record)

    def _advance_to(self, bookmarks: dict[str, Any], key: str, record: dict[str, Any]) -> None:
        """The SDK's own bookkeeping for ``record``, on the run's state dict, in time order.

        An unsorted stream keeps the latest value in time; a sorted stream whose server
        breaks the order fails in one line, its STATE back at the bookmark the run started
        from, which passes no record the server has still to send.
        """
        if not self._sorted and PROGRESS_MARKERS not in bookmarks:
            self._hold_bookmark(bookmarks, key)
        # The SDK compares the values as they are (text for ISO times): the order is checked
        # here, in time, and the SDK only records the value.
        progress = bookmarks if self._sorted else bookmarks[PROGRESS_MARKERS]
        previous = to_json_compatible(progress.get("replication_key_value"))
        if self._check_sorted and previous is not None:
            reached, value = in_time_order([previous, to_json_compatible(record[key])])
            if value < reached:
                if not self._sorted:
                    return  # unsorted: the latest value so far holds
                self._out_of_order(bookmarks, key, record)
        increment_state(
            bookmarks,
            replication_key=key,
            latest_record=record,
            is_sorted=self._sorted,
            check_sorted=False,
        )

    def _out_of_order(
        self, bookmarks: dict[str, Any], key: str, record: dict[str, Any]
    ) -> NoReturn:
        """Fail a sorted stream whose server broke the order, STATE back where it started."""
        reached = bookmarks.get("replication_key_value")
        bookmarks.clear()
        bookmarks.update(self._started_at)
        self.state_manager.is_flushed = False
        self._write_state_message()
        msg = (
            f"stream '{self.name}': the server sent records out of order by '{key}' "
            f"({record[key]!r} after {reached!r}) although the stream asks for them "
            f"sorted; the run stops, and STATE keeps the bookmark it started from "
            f"({self._started_at.get('replication_key_value')!r})"
        )
        raise SortOrderError(msg) from None

    def _hold_bookmark(self, bookmarks: dict[str, Any], key: str) -> None:
        """Start an unsorted stream's progress markers, and say once what they mean.

        The records may come in any order of the key, so the greatest value seen is kept
        aside (the SDK's progress markers) and becomes the bookmark when the stream
        completes; every STATE until then keeps the previous bookmark. The SDK would warn,
        for every partition of every healthy run and without naming the stream, that
        progress is not resumable: a run stopped half-way does start again where it
        started, and reads those changes again, but loses none.
        """
        bookmarks[PROGRESS_MARKERS] = {PROGRESS_MARKER_NOTE: UNSORTED_NOTE}
        if self._told_unsorted:
            return
        self._told_unsorted = True
        self.logger.info(
            "stream '%s': records are not sorted by %s, so the bookmark advances when the "
            "stream completes; if the run stops before then, the next run starts again "
            "where this one did (those changes are read again, none is lost)",
            self.name,
            key,
        )
