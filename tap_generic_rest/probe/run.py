"""Running the probe: each selected stream's own sync loop, watched, for a few pages.

The records come from the SDK's ``_sync_records(write_messages=False)`` (what its
batch mode uses): the same partitions, starting values, paginators, retries,
authentication and post-processing as a sync, with no message written. The probe
adds a response hook and a paginator wrapper (:mod:`tap_generic_rest.probe.watch`)
and reads the records as they pass (:mod:`tap_generic_rest.probe.findings`).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click
import orjson
from singer_sdk.singerlib.encoding import SimpleSingerWriter
from typing_extensions import override

from tap_generic_rest.cli.failure_lines import describe
from tap_generic_rest.errors import ForeignHostError, PaginationError, ResponseShapeError
from tap_generic_rest.probe import DEFAULT_PROBE_PAGES
from tap_generic_rest.probe.findings import RecordFindings
from tap_generic_rest.probe.report import ProbeReport, StreamReport
from tap_generic_rest.probe.watch import StreamWatch
from tap_generic_rest.redact import redact
from tap_generic_rest.source import source_of

if TYPE_CHECKING:
    from collections.abc import Sequence

    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context
    from singer_sdk.plugin_base import _ConfigInput
    from singer_sdk.singerlib import Message
    from singer_sdk.streams import Stream

    from tap_generic_rest.stream.base import GenericRestStream


#: Failures of one stream's data, after which the probe goes on with the next stream.
DATA_FAILURES: tuple[type[Exception], ...] = (ResponseShapeError, PaginationError, ForeignHostError)

#: Parent records whose child contexts a child stream is probed with, at most.
CHILD_SAMPLE = 3


def probe_stream(
    stream: GenericRestStream,
    max_pages: int,
    contexts: Sequence[Context | None] = (None,),
) -> tuple[StreamReport, list[Context], Exception | None]:
    """Run one stream's sync loop, watched, stopping after ``max_pages`` pages per loop.

    ``contexts``: None for a top-level stream (the SDK goes through its partitions), or
    the child contexts a child stream is probed with. Returns the stream's part of the
    report, the child contexts of its first records, and the failure that ended it.
    """
    watch = StreamWatch(stream, max_pages)
    findings = RecordFindings(
        schema=stream.effective_schema,
        primary_keys=tuple(stream.primary_keys or ()),
        replication_key=stream.replication_key,
    )
    report = StreamReport(stream.name, watch, findings)
    child_contexts: list[Context] = []
    # The parent's loop must not sync its children: they would write their messages.
    children, stream.child_streams = stream.child_streams, []
    hooks = stream.requests_session.hooks["response"]
    hooks.append(watch.on_response)
    stream.watch_paginator = watch.watch
    try:
        for context in contexts:
            # The SDK's batch path: the sync's own loop, writing no message.
            for record in stream._sync_records(context, write_messages=False):
                findings.add(record)
                if children and len(child_contexts) < CHILD_SAMPLE:
                    child = stream.get_child_context(record, context)
                    if child and child not in child_contexts:
                        child_contexts.append(child)
    except Exception as exc:  # noqa: BLE001  reported, then raised by the command
        report.error = redact(describe(exc))
        return report, child_contexts, exc
    finally:
        stream.child_streams = children
        hooks.remove(watch.on_response)
        stream.watch_paginator = None
        watch.finish()
    return report, child_contexts, None


def probe(tap: Tap, max_pages: int) -> tuple[ProbeReport, Exception | None]:
    """Probe every selected stream of ``tap``; return the report and the first failure.

    A failure of the stream's data (a record without its key, a page the paging guards
    refuse) is that stream's finding, and the probe goes on with the next stream; any
    other (refused credentials, a server error after the retries, a bad setting) stops
    it. A child stream is probed after its parent, with the child contexts of the
    parent's first records (:data:`CHILD_SAMPLE`), when the parent is selected too.
    """
    # A sync loop writes a SCHEMA message when the server's types drift; a probe writes
    # no message at all, whatever the streams do.
    tap.message_writer = NoMessages()
    report = ProbeReport(source=source_of(tap).name, max_pages=max_pages)
    first_failure: Exception | None = None
    pending: list[tuple[Stream, Sequence[Context | None]]] = [
        (stream, (None,)) for stream in tap.streams.values() if stream.parent_stream_type is None
    ]
    while pending:
        stream, contexts = pending.pop(0)
        if not stream.selected:
            continue
        if not contexts:  # a child whose parent's sample gave no context
            report.streams.append(_not_probed(stream, max_pages))
            continue
        part, child_contexts, failure = probe_stream(stream, max_pages, contexts)  # type: ignore[arg-type]
        report.streams.append(part)
        if failure is not None:
            first_failure = first_failure or failure
            if not isinstance(failure, DATA_FAILURES):
                break
            continue
        pending[:0] = [(child, child_contexts) for child in stream.child_streams]
    return report, first_failure


class NoMessages(SimpleSingerWriter):
    """The probe's message writer: it writes no Singer message at all."""

    @override
    def write_message(self, message: Message) -> None:
        return


def _not_probed(stream: Stream, max_pages: int) -> StreamReport:
    parent = getattr(stream.parent_stream_type, "name", "?")
    return StreamReport(
        stream.name,
        StreamWatch(stream, max_pages),  # type: ignore[arg-type]
        RecordFindings(stream.schema, tuple(stream.primary_keys or ())),
        note=f"not probed: its parent '{parent}' gave no child context in the sample",
    )


def run_probe_command(
    tap_class: type[Tap],
    *,
    config: _ConfigInput | None,
    catalog: Any,
    state: Any,
    about_format: str | None,
    probe_pages: int | None,
) -> None:
    """``--probe``: print the report and exit 0 (fits), 1 (drift) or 2 (failed)."""
    from singer_sdk.plugin_base import _ConfigInput  # noqa: PLC0415

    if about_format not in {None, "json"}:
        msg = "--probe writes text, or JSON with --format json"
        raise click.UsageError(msg)
    config = config or _ConfigInput()
    tap_class.print_version(print_fn=tap_class.logger.info)
    tap = tap_class(
        config=config.config,
        state=None if state is None else orjson.loads(state.read()),
        catalog=None if catalog is None else orjson.loads(catalog.read()),
        parse_env_config=config.parse_env,
        validate_config=True,
    )
    max_pages = int(probe_pages or tap.config.get("probe_pages") or DEFAULT_PROBE_PAGES)
    report, failure = probe(tap, max_pages)
    sys.stdout.write(report.render(about_format or "text"))
    sys.stdout.flush()
    if failure is not None:
        raise failure
    raise SystemExit(report.exit_code)
