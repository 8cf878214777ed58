"""What the tap's log lines look like to the user, on a terminal and under Meltano.

Two things the SDK does not do as users need:

- It logs ``An unhandled error occurred while syncing '<stream>'`` at ERROR before
  every failure of a stream, and for every stream of ``--test``, which stops each
  stream after one record on purpose. :class:`StreamFailureFilter` drops that line
  for expected failures and lifecycle signals (the command line prints the one
  line that explains the failure) and tags the failure with the stream's name.
- Meltano reads a plugin's stderr as JSON log records when the plugin declares the
  ``structured-logging`` capability: it then sets ``SINGER_SDK_LOG_CONFIG`` to a
  logging config using the SDK's ``StructuredFormatter`` and shows each record at
  its own level. Any other line is shown as ``[info]``. The command line's final
  error line is written by :func:`error_line`, so it is a JSON record at level
  ``error`` there, and plain text everywhere else.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from singer_sdk.exceptions import SyncLifecycleSignal
from singer_sdk.logging import StructuredFormatter
from typing_extensions import override

from tap_generic_rest.cli.failure_lines import EXPECTED, tag_stream

#: The SDK's line (singer_sdk.streams.core.Stream.sync) before it re-raises a failure.
UNHANDLED_ERROR = "An unhandled error occurred while syncing '%s'"
PROGRAM = "tap-generic-rest"


class StreamFailureFilter(logging.Filter):
    """Drops the SDK's per-stream error line when the failure is expected; tags the failure.

    The line is logged inside the SDK's ``except`` block, so the failure is the
    exception being handled.
    """

    @override
    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg != UNHANDLED_ERROR:
            return True
        failure = sys.exc_info()[1]
        if failure is None or not isinstance(failure, (*EXPECTED, SyncLifecycleSignal)):
            return True  # a bug: keep the line, a traceback follows
        if isinstance(record.args, tuple) and record.args:
            tag_stream(failure, str(record.args[0]))
        return False


STREAM_FAILURE_FILTER = StreamFailureFilter()


def quiet_expected_failures(logger: logging.Logger) -> None:
    """Install the filter on a stream's logger (idempotent: loggers live as long as the process)."""
    logger.addFilter(STREAM_FAILURE_FILTER)


def structured() -> bool:
    """Whether stderr is read as JSON log records (Meltano's structured logging)."""
    if any(isinstance(h.formatter, StructuredFormatter) for h in logging.getLogger().handlers):
        return True
    path = os.environ.get("SINGER_SDK_LOG_CONFIG")
    if not path:
        return False
    try:
        return StructuredFormatter.__name__ in Path(path).read_text(encoding="utf-8")
    except OSError:
        return False


def error_line(message: str) -> str:
    """The final error line: ``tap-generic-rest: error: ...``, as a JSON record if structured.

    ``message`` must already be redacted: the record is made here, not by a logger.
    """
    text = f"{PROGRAM}: error: {message}"
    if not structured():
        return text
    record = logging.LogRecord(PROGRAM, logging.ERROR, __file__, 0, text, None, None)
    return StructuredFormatter().format(record)
