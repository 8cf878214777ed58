"""The SDK's request and record loops, a page at a time.

The SDK requests pages and flattens them into records (``RESTStream.request_records``),
then handles each record on its own (``Stream._sync_records``): post-processing,
partition keys, child contexts, its RECORD message, the bookmark, a STATE message
every ``STATE_MSG_FREQUENCY`` records, the record counter. That per-record work cost
more than fetching and decoding a record. Here the unit is the page:

* :func:`pages_one_by_one` is the SDK's request loop yielding whole pages (the
  prefetcher, ``stream/prefetch.py``, yields pages the same way);
* :func:`sync_by_page` is the SDK's record loop, each step done once per page for
  every record of it: post-processing and partition keys, the RECORD messages
  (``RecordEmitter.write_page``: one message dict, one ``time_extracted``), the
  bookmark advanced as the per-record calls would advance it
  (``IncrementalStream.advance_bookmark``), the counters. A page is cut where the SDK
  writes a STATE message, so each STATE comes after the same record and holds the
  same bookmark.

A stream whose records need the per-record work (child streams, a record limit,
stream maps, another message writer: :func:`obstacle`) runs the SDK's own loop over
the same pages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tap_generic_rest.records import fast_path

if TYPE_CHECKING:
    from collections.abc import Generator, Iterator

    from singer_sdk.helpers.types import Context

    from tap_generic_rest.records.fast_path import RawRecords
    from tap_generic_rest.stream.base import GenericRestStream

Record = dict[str, Any]


def pages_one_by_one(stream: GenericRestStream, context: Context | None) -> Iterator[list[Record]]:
    """The SDK's request loop (``RESTStream.request_records``), yielding whole pages.

    Same requests, retries, counters and stop rule: the paginator decides, and an
    empty page ends the stream unless the paginator continues past it.
    """
    paginator = stream.get_new_paginator()
    send = stream.request_decorator(stream._request)
    pages = 0
    with stream.get_http_request_counter() as request_counter:
        request_counter.with_context(context)
        while not paginator.finished:
            request = stream._prepare_request(context=context, page=paginator)
            response = send(request, context)
            request_counter.increment()
            stream.update_sync_costs(request, response, context)
            records = stream.parse_response(response)
            if not records:
                if paginator.continue_if_empty(response):
                    paginator.advance(response)
                    continue
                stream.log(
                    "Pagination stopped after %d pages because no records were found in "
                    "the last response",
                    pages,
                )
                break
            yield records
            pages += 1
            paginator.advance(response)


def obstacle(stream: GenericRestStream) -> str:
    """Why ``stream``'s records must go through the SDK's record loop; empty when not."""
    if stream.child_streams:
        return "the stream has child streams"
    if stream.ABORT_AT_RECORD_COUNT is not None:
        return "a record limit is set"
    return stream.record_emitter.reason_slow


def sync_by_page(
    stream: GenericRestStream, context: Context | None
) -> Generator[Record, Any, None]:
    """``Stream._sync_records`` for a stream without :func:`obstacle`, page by page.

    Yields each record once it is written, as the SDK's loop does. Where the records need
    nothing but their bytes (``fast_path.obstacle``), pages the typed check vouches for
    are written as the server sent them (``records/fast_path.py``).
    """
    stream.raw_records = _raw_records(stream, context)
    try:
        yield from _records_by_page(stream, context)
    finally:
        stream.raw_records = None


def _raw_records(stream: GenericRestStream, context: Context | None) -> RawRecords | None:
    """The fast record path of this sync, if its records need nothing but their bytes."""
    reason = "a parent's context" if context is not None else fast_path.obstacle(stream)
    if reason:
        stream.logger.debug("stream '%s': no fast record path: %s", stream.name, reason)
        return None
    return fast_path.RawRecords(stream)


def _records_by_page(stream: GenericRestStream, context: Context | None) -> Iterator[Record]:
    """The loop of :func:`sync_by_page`, each record yielded once its chunk is written."""
    record_counter = stream.get_record_counter()
    timer = stream.get_sync_timer()
    every = stream.STATE_MSG_FREQUENCY
    written = 0
    contexts = [context] if context is not None else stream.partitions
    with record_counter, timer:
        for element in contexts or [{}]:
            record_counter.with_context(element)
            timer.with_context(element)
            current = element or None
            partition = stream._get_state_partition_context(current)
            stream._write_starting_replication_value(current)
            for page in stream.get_pages(current):
                records = stream.post_process_page(page, current)
                if partition:  # as Stream._process_record: keys the record lacks
                    for record in records:
                        for key, value in partition.items():
                            record.setdefault(key, value)
                start = 0
                while start < len(records):
                    # Up to the next record after which the SDK writes a STATE message.
                    end = start + every - written % every
                    chunk = records[start:end] if start or end < len(records) else records
                    stream.write_records(chunk, current)
                    written += len(chunk)
                    record_counter.increment(len(chunk))
                    if written % every == 0:
                        stream._write_state_message()
                    yield from chunk
                    start = end
            if current == partition:
                stream._finalize_state(stream.get_context_state(current))
    if not context:
        stream._finalize_state(stream.stream_state)
    stream._write_state_message()
