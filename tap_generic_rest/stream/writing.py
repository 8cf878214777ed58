"""The records' way out: a page post-processed, its RECORD messages written, and counted.

The layer between the schema's (``widening``) and the base class: a page's records go
through the record filter (or a source's own ``post_process``), then out as RECORD messages
through the fast record path (the server's bytes, ``records/fast_path.py``), the tap's
writer (``records/writer.py``) or, where neither can be exact, the SDK's own; the run
summary counts what was written, whatever a stream map made of it.
"""

from __future__ import annotations

from functools import cached_property
from itertools import repeat
from typing import TYPE_CHECKING, Any

from typing_extensions import override

from tap_generic_rest.records.checks import CONFORM
from tap_generic_rest.records.writer import FastSingerWriter, RecordEmitter
from tap_generic_rest.stream.widening import WideningStream

if TYPE_CHECKING:
    from collections.abc import Generator

    from singer_sdk.helpers.types import Context

    from tap_generic_rest.records.fast_path import RawRecords


class WritingStream(WideningStream):
    """Post-processing and writing a page's records, counted as written."""

    #: The current page's records as the server's bytes (the fast record path), if any.
    raw_records: RawRecords | None = None

    @override
    def post_process(  # None drops the record, as the SDK allows
        self, row: dict[str, Any], context: Context | None = None
    ) -> dict[str, Any] | None:
        if self.record_filter is not None and not self.record_filter(row):
            return None  # changed before the bookmark: the API could not leave it out
        return row

    def _counted(
        self, records: Generator[dict[str, Any], Any, Any]
    ) -> Generator[dict[str, Any], Any, Any]:
        """``records``, each counted as written for the run summary (batch messages)."""
        for record in records:
            self.stats.records += 1
            yield record

    def post_process_page(
        self, records: list[dict[str, Any]], context: Context | None
    ) -> list[dict[str, Any]]:
        """``post_process`` over a page: the records it keeps, in order."""
        if not self.post_processes_records:  # the filter alone
            keep = self.record_filter
            if keep is None or self.page_is_all_new(records):
                return records
            return list(filter(keep, records))
        kept = map(self.post_process, records, repeat(context))
        return [record for record in kept if record is not None]

    def write_records(self, records: list[dict[str, Any]], context: Context | None) -> None:
        """Write a page's RECORD messages and advance the bookmark over them (page_loop).

        What the SDK's loop does per record, once for them all; where the bookmark can
        only be advanced record by record (a sort error to raise after the record that
        breaks the order), record by record.
        """
        if not self.advance_bookmark(records):
            for record in records:  # the SDK's order: the record, then its bookmark
                self._write_record_message(record)
                self._increment_stream_state(record, context=context)
            return
        if self._schema_held:
            self._release_schema()
        conform = self._to_conform
        if self._partitioned:  # the partition's keys were added since the page was checked
            conform = conform | {id(r) for r in records if self._record_check(r) & CONFORM}
        lines = None if self.raw_records is None else self.raw_records.lines(records)
        before = self._records_written()
        self.record_emitter.write_page(records, conform, super()._write_record_message, lines)
        self._count_written(before, len(records))
        self.state_manager.is_flushed = False

    def _records_written(self) -> int | None:
        """RECORD messages the tap's writer wrote so far (None: another writer)."""
        writer = self._tap.message_writer
        return writer.records_written if isinstance(writer, FastSingerWriter) else None

    def _count_written(self, before: int | None, records: int) -> None:
        """Count for the run summary what was written since ``before``.

        A stream map may drop records or copy them; with another writer than the
        tap's, the ``records`` handed to it count.
        """
        after = self._records_written()
        self.stats.records += records if before is None or after is None else after - before

    @property
    def post_processes_records(self) -> bool:
        """Whether ``post_process`` does more than the record filter (a source's own)."""
        return type(self).post_process is not WritingStream.post_process

    @property
    def reported_undeclared(self) -> frozenset[str]:
        """The undeclared fields warned about so far (they pass through)."""
        return frozenset(self._reported_undeclared)

    @cached_property
    def _partitioned(self) -> bool:
        """Whether the SDK copies partition keys into records after their page was checked."""
        return bool(self.partitions)

    @cached_property
    def record_emitter(self) -> RecordEmitter:
        """Writes this stream's RECORD messages; built when the sync starts (page_loop.obstacle)."""
        return RecordEmitter(self)

    @override
    def _write_record_message(self, record: dict[str, Any]) -> None:
        """Write the record through the fast path, or the SDK's when it cannot be exact."""
        if self._schema_held:
            self._release_schema()
        raw = None if self.raw_records is None else self.raw_records.line(record)
        before = self._records_written()
        if raw is not None:  # a view of a page the fast record path split: the server's bytes
            self.record_emitter.write_raws([raw])
            self.state_manager.is_flushed = False
            self._count_written(before, 1)
            return
        conform = id(record) in self._to_conform
        if self._partitioned and not conform:  # the SDK added the partition's keys since
            conform = bool(self._record_check(record) & CONFORM)
        if self.record_emitter.write(record, conform=conform):
            self.state_manager.is_flushed = False
        else:
            super()._write_record_message(record)
        self._count_written(before, 1)
