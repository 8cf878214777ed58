"""Failures the tap expects and reports in one line, without a traceback.

Anything raised as a :class:`TapError` (or one of the SDK's API errors) is a
problem with the configuration, the input files or the remote API, not a bug:
the command line prints its message (redacted) and exits non-zero.
"""

from __future__ import annotations

from singer_sdk.exceptions import InvalidStreamSortException


class TapError(Exception):
    """An expected failure with a message meant for the user."""


class ConfigError(TapError):
    """A setting is missing, malformed or inconsistent with the chosen source."""


class InputFileError(TapError):
    """A --config, --catalog or --state file cannot be read or has the wrong shape."""


class ResponseShapeError(TapError):
    """A response body does not hold records where the stream's selector says."""


class PaginationError(TapError):
    """The server's paging would loop or repeat records."""


class ForeignHostError(TapError):
    """A request would carry credentials to a host other than the base_url host."""


class OutputClosedError(TapError):
    """The target closed the tap's stdout (a broken pipe): nothing more can be written."""


class SortOrderError(ResponseShapeError, InvalidStreamSortException):
    """A sorted stream's server sent a record out of order: one line, never retried.

    Still the SDK's sort exception, for whatever catches that.
    """
