"""Writing RECORD messages fast, with exactly the output of the SDK's own path.

For every record the SDK prunes deselected properties, conforms values to the
schema, builds a ``RecordMessage``, serialises it with simplejson and flushes
stdout: several times the cost of fetching and decoding the record. Records
decoded from JSON need almost none of that work, so this module does only what
can change them:

* pruning walks only the deselected paths of the catalog (nothing when all
  properties are selected, the usual case);
* conformance is checked only where the SDK could change a JSON value (a
  boolean-only property holding something else than true, false or null; an
  object with ``additionalProperties`` unset holding undeclared keys), by the
  stream's page and record checks (``checks``, together with the drift test);
  a record they flag goes through the SDK's own ``conform_record_data_types``;
* the message is serialised once with orjson, a page's records in one message
  dict (:meth:`RecordEmitter.write_page`); record lines are written in chunks
  without a flush, and the next other message (SCHEMA, STATE...) is written
  after them and flushed as the SDK does, so a target sees all records before
  the state that covers them.

Anything orjson cannot write exactly as the SDK would (datetimes, decimals, bytes,
subclasses of built-in types, integers beyond 64 bits...) sends that one record
down the SDK's path. A stream whose records the SDK would transform further
(stream maps, flattening, a conformance level other than recursive, another
message writer) uses the SDK's path for every record.
"""

from __future__ import annotations

import contextlib
import gc
import sys
import time
from datetime import datetime, timezone
from itertools import repeat
from typing import TYPE_CHECKING, Any

import orjson
from singer_sdk.helpers._typing import conform_record_data_types
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.singerlib import RecordMessage
from singer_sdk.singerlib.encoding import SimpleSingerWriter
from typing_extensions import override

from tap_generic_rest.errors import OutputClosedError

if TYPE_CHECKING:
    from collections.abc import Callable, Container, Iterator, Mapping

    from singer_sdk.singerlib import Message
    from singer_sdk.streams import Stream

    from tap_generic_rest.records.fast_path import FastPath

#: Deselected paths: ``None`` marks a property to drop, a dict the deselected paths below it.
PruneTree = dict[str, "PruneTree | None"]

#: The collector's first threshold while records stream (Python's default is 700).
GC_THRESHOLD_WHILE_STREAMING = 100_000

#: Everything orjson would otherwise write its own way goes to the SDK's path instead.
_ORJSON_OPTIONS = (
    orjson.OPT_APPEND_NEWLINE
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


class FastSingerWriter(SimpleSingerWriter):
    """The SDK's writer, plus pre-serialised RECORD lines written in large chunks.

    Record lines are gathered and written ``chunk_size`` bytes at a time, without a
    flush: a write per hundred records or so instead of a write and a flush per
    record. Fewer writes also mean fewer releases of the GIL, each of which can hand
    it to a page-fetching thread. Every other message is
    written and flushed as the SDK does, after the record lines gathered before it,
    so the order never changes and a target has every record before the state that
    covers it. A stream that ends, fails or is stopped writes what is gathered
    (see ``GenericRestStream.get_pages``).
    """

    #: Bytes of record lines gathered before they are written: few writes, and little
    #: enough to be joined while the lines are still in the processor's cache.
    chunk_size = 1 << 16

    def __init__(self) -> None:
        super().__init__()
        self._lines: list[bytes] = []
        self._size = 0
        #: RECORD messages written so far, by either path: what the run summary counts
        #: (a stream map may drop a record, or copy it under another name).
        self.records_written = 0

    def write_line(self, line: bytes, records: int = 1) -> None:
        """Write serialised RECORD lines (each ending in a newline): one, or ``records``."""
        self.records_written += records
        self._lines.append(line)
        self._size += len(line)
        if self._size >= self.chunk_size:
            self.write_pending()

    def write_pending(self) -> None:
        """Write the gathered record lines to stdout (not flushed)."""
        if not self._lines:
            return
        data = b"".join(self._lines)
        self._lines.clear()
        self._size = 0
        # orjson writes U+0085, U+2028 and U+2029 unescaped, as JSON allows; str.splitlines()
        # splits on them, so they are escaped (as the SDK's writer escapes all non-ASCII).
        # One scan of the chunk, not one per line: no such character spans two lines.
        if not data.isascii() and has_line_separators(data):
            data = escape_line_separators(data)
        out = sys.stdout  # looked up each time: tests redirect it
        buffer = getattr(out, "buffer", None)
        try:
            if buffer is not None:  # the text layer holds nothing: every text write is flushed
                buffer.write(data)
            else:
                out.write(data.decode())
        except BrokenPipeError:
            raise OutputClosedError from None

    @override
    def write_message(self, message: Message) -> None:
        if isinstance(message, RecordMessage):
            self.records_written += 1
        self.write_pending()
        try:
            super().write_message(message)
        except BrokenPipeError:
            # Not an OSError any more: click would end the run silently with status 1.
            raise OutputClosedError from None


@contextlib.contextmanager
def gc_tuned_for_streaming() -> Iterator[None]:
    """Let the cyclic garbage collector run far less often while records stream.

    Every decoded page is thousands of new containers that live until its records
    are written, then are freed by reference counting. With the default threshold
    (700) each page sets off collections that walk all of them, and every few pages
    a full one that walks every object of the tap: a tenth to a fifth of the time.
    A threshold above what a few pages allocate means a collection starts only when
    objects really pile up (cycles), which bounds memory all the same.
    """
    thresholds = gc.get_threshold()
    if thresholds[0] == 0 or thresholds[0] >= GC_THRESHOLD_WHILE_STREAMING:
        yield  # collection disabled, or tuned already (a parent stream's records)
        return
    gc.set_threshold(GC_THRESHOLD_WHILE_STREAMING, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def compile_prune_tree(mask: Mapping[tuple[str, ...], bool]) -> PruneTree:
    """The deselected property paths of a selection mask, as a tree (empty: none)."""
    tree: PruneTree = {}
    for breadcrumb, selected in sorted(mask.items(), key=lambda item: len(item[0])):
        if (
            selected
            or len(breadcrumb) < 2
            or breadcrumb[0::2] != ("properties",) * (len(breadcrumb) // 2)
        ):
            continue
        node: PruneTree | None = tree
        names = breadcrumb[1::2]
        for name in names[:-1]:
            node = node.setdefault(name, {}) if node is not None else None
            if node is None:  # an ancestor is dropped already
                break
        if node is not None:
            node[names[-1]] = None
    return tree


def prune(record: dict[str, Any], tree: PruneTree) -> None:
    """Drop the deselected properties of ``record`` in place, as the SDK does.

    Like ``pop_deselected_record_properties``, it descends into objects, never
    into arrays.
    """
    for name, below in tree.items():
        if name in record:
            if below is None:
                del record[name]
            else:
                value = record[name]
                if isinstance(value, dict):
                    prune(value, below)


def has_line_separators(line: bytes) -> bool:
    """Whether serialised UTF-8 ``line`` holds U+2028, U+2029 or U+0085.

    Searches for their lead bytes one byte at a time (memchr: several times faster
    than searching for the two- and three-byte sequences).
    """
    find = line.find
    at = find(b"\xe2")
    while at >= 0:
        if line[at + 1] == 0x80 and line[at + 2] in (0xA8, 0xA9):
            return True
        at = find(b"\xe2", at + 3)
    at = find(b"\xc2")
    while at >= 0:
        if line[at + 1] == 0x85:
            return True
        at = find(b"\xc2", at + 2)
    return False


def escape_line_separators(line: bytes) -> bytes:
    """Escape the characters other than a newline that ``str.splitlines()`` splits on.

    In a serialised message they can only be inside strings, where an escape means
    the same; the other such characters are control characters, escaped by orjson.
    """
    return (
        line.replace(b"\xe2\x80\xa8", b"\\u2028")
        .replace(b"\xe2\x80\xa9", b"\\u2029")
        .replace(b"\xc2\x85", b"\\u0085")
    )


class ExtractionClock:
    """``time_extracted`` values, formatted at most once per millisecond.

    The SDK reads the clock and formats it for every record; tens of records share
    a millisecond here, so they share its string (same format: ISO 8601, UTC, with
    microseconds). A clock that goes back is followed at once.
    """

    #: Seconds one formatted time is reused for.
    resolution = 0.001

    def __init__(self) -> None:
        self._at = 0.0
        self._text = ""

    def now(self) -> str:
        """The current UTC time, as the SDK writes ``time_extracted``."""
        now = time.time()
        if not 0 <= now - self._at < self.resolution:
            self._at = now
            self._text = datetime.fromtimestamp(now, timezone.utc).isoformat(sep="T")
        return self._text


class RecordEmitter:
    """Writes the RECORD messages of one stream, fast where that gives the SDK's output.

    Built when the stream writes its first record (its catalog, stream maps and
    message writer are known then).
    """

    def __init__(self, stream: Stream) -> None:
        self.stream = stream
        self.reason_slow = self._why_not_fast(stream)
        self.writer: FastSingerWriter | None = None
        #: The fast record path for this schema (``fast_path.RawRecords`` builds it), or why not.
        self.fast_path: FastPath | None = None
        self.fast_path_refused = ""
        if self.reason_slow:
            return
        self.writer = stream._tap.message_writer  # type: ignore[assignment]  # checked above
        self.alias = stream.stream_maps[0].stream_alias
        self.prune_tree = compile_prune_tree(stream.mask)
        self._clock = ExtractionClock()
        self._raw_head: bytes | None = None
        #: Records that needed the SDK's conformance or its serialisation.
        self.slow_records = 0

    @staticmethod
    def _why_not_fast(stream: Stream) -> str:
        """Why the stream's records need the SDK's path; empty when they do not."""
        maps = stream.stream_maps
        if len(maps) != 1 or type(maps[0]) is not SameRecordTransform:
            return "stream maps are configured"
        if maps[0].flattening_enabled:
            return "flattening is enabled"
        if stream.TYPE_CONFORMANCE_LEVEL is not TypeConformanceLevel.RECURSIVE:
            return "the stream's type conformance level is not recursive"
        if not isinstance(stream._tap.message_writer, FastSingerWriter):
            return "the tap's message writer is not the fast writer"
        return ""

    def write(self, record: dict[str, Any], *, conform: bool) -> bool:
        """Write ``record``'s RECORD message; False if it must go the SDK's way instead.

        ``conform``: the record's check (``checks``, run on its page before any
        record of it was written) says the SDK's conformance could change it.
        The record is pruned in place, as the SDK prunes it (the stream's state and
        child contexts see the pruned record either way).
        """
        return self.writer is not None and self._write(self._envelope(), record, conform=conform)

    def write_page(
        self,
        records: list[dict[str, Any]],
        conform: Container[int],
        write_slowly: Callable[[dict[str, Any]], None],
        lines: list[Any] | None = None,
    ) -> None:
        """Write the RECORD messages of a page's records, in order, with one ``time_extracted``.

        ``conform`` holds the ids of the records the SDK's conformance could change;
        ``write_slowly`` (the SDK's path) takes the records :meth:`write` cannot write.
        One message dict serves the whole page, its record swapped in for each line:
        serialising each line and handing it to the writer at once keeps the work in
        the processor's cache, where serialising the page into one buffer did not.
        ``lines``: each record's bytes as the server sent them (the fast record path),
        written as they are; None where a record has none (a deletion record).
        """
        if self.writer is None:
            for record in records:
                write_slowly(record)
            return
        if lines is not None and None not in lines:
            self.write_raws(lines)
            return
        envelope = self._envelope()
        for record, line in zip(records, lines or repeat(None, len(records)), strict=True):
            if line is not None:
                self.write_raws([line])
            elif not self._write(envelope, record, conform=id(record) in conform):
                write_slowly(record)

    def write_raws(self, raws: list[Any]) -> None:
        """Write one RECORD message around each record's own bytes, with one ``time_extracted``.

        The envelope is the one :meth:`_envelope` makes, its keys in the same order; the
        record is the server's JSON text (one line: the split compacts a spread body).
        """
        head = self._raw_head
        if head is None:
            envelope = orjson.dumps({"type": "RECORD", "stream": self.alias})
            head = self._raw_head = envelope[:-1] + b',"record":'
        tail: dict[str, Any] = {"time_extracted": self._clock.now()}
        version = self.stream._stream_version
        if version is not None:
            tail = {"version": version, **tail}
        end = b"," + orjson.dumps(tail)[1:] + b"\n"
        lines = head + (end + head).join(raws) + end
        self.writer.write_line(lines, len(raws))  # type: ignore[union-attr]

    def _envelope(self) -> dict[str, Any]:
        """A RECORD message of this stream as of now, its record to be filled in."""
        message: dict[str, Any] = {"type": "RECORD", "stream": self.alias, "record": None}
        version = self.stream._stream_version
        if version is not None:
            message["version"] = version
        message["time_extracted"] = self._clock.now()
        return message

    def _write(self, envelope: dict[str, Any], record: dict[str, Any], *, conform: bool) -> bool:
        """Write ``record`` in ``envelope`` (see :meth:`write`)."""
        if self.prune_tree:
            prune(record, self.prune_tree)
        if conform:
            stream = self.stream
            record = conform_record_data_types(
                stream_name=stream.name,
                record=record,
                schema=stream.effective_schema,
                level=stream.TYPE_CONFORMANCE_LEVEL,
                logger=stream.logger,
            )
        envelope["record"] = record
        try:
            line = orjson.dumps(envelope, option=_ORJSON_OPTIONS)
        except TypeError:  # orjson.JSONEncodeError: a value only the SDK writes exactly
            self.slow_records += 1
            return False
        if conform:
            self.slow_records += 1
        self.writer.write_line(line)  # type: ignore[union-attr]  # checked by the callers
        return True
