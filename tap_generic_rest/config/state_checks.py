"""The --state file as users hand it over: unwrapped, and every bookmark checked up front.

Two mistakes would otherwise pass in silence, or fail late:

* a whole STATE message given as the state (``... | grep STATE | tail -1``), or
  Meltano's ``{"singer_state": ...}``: the SDK finds no ``bookmarks`` in it and every
  stream reads everything again, exit 0. It is unwrapped (its ``value``), and a log
  line says so; another kind of Singer message is refused in one line.
* a bookmark that is not a time (epoch milliseconds for a date-time key, a word) or
  lies in the future: each stream judged its bookmark as it started, after earlier
  streams had written their output. Every bookmark of every selected stream is
  judged as the tap loads the state, before any request: one line naming
  ``--state``, the stream and the key for a bad one, a warning naming the stream,
  the value and the run's clock for one in the future.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from tap_generic_rest.errors import InputFileError

if TYPE_CHECKING:
    import logging
    from collections.abc import Iterable, Iterator

    from singer_sdk.streams import Stream

#: Singer message types: a file holding one of these is a message, not a state.
_MESSAGE_TYPES = frozenset({"STATE", "RECORD", "SCHEMA", "ACTIVATE_VERSION", "BATCH"})


def message_problem(data: dict[str, Any]) -> str | None:
    """Why ``data`` is a Singer message other than STATE, and so not a state (None if not)."""
    kind = data.get("type")
    is_message = isinstance(kind, str) and kind in _MESSAGE_TYPES and "bookmarks" not in data
    if is_message and (kind != "STATE" or not isinstance(data.get("value"), dict)):
        return f"the file holds a Singer {kind} message, not a state"
    return None


def unwrapped_state(data: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The state a --state object holds, and how it was found (empty: as it is).

    A STATE message gives its ``value``, Meltano's state its ``singer_state``; any
    other Singer message is refused (:class:`InputFileError`).
    """
    problem = message_problem(data)
    if problem:
        raise InputFileError(f"--state: {problem}")
    if data.get("type") == "STATE" and "bookmarks" not in data:
        return data["value"], "it holds a whole STATE message: the message's 'value' is the state"
    inner = data.get("singer_state")
    if "bookmarks" not in data and isinstance(inner, dict):
        return inner, "it holds Meltano's state: its 'singer_state' is the state"
    inner = data.get("value")
    if "bookmarks" not in data and isinstance(inner, dict) and "bookmarks" in inner:
        return inner, "it holds a message's 'value' with the bookmarks: that is the state"
    return data, ""


def _values(bookmark: dict[str, Any]) -> Iterator[Any]:
    """The replication key values of a stream's bookmark: its own and its partitions'."""
    for entry in [bookmark, *bookmark.get("partitions", [])]:
        if isinstance(entry, dict) and entry.get("replication_key_value") is not None:
            yield entry["replication_key_value"]


def check_bookmarks(
    streams: Iterable[Stream], state: dict[str, Any], logger: logging.Logger
) -> None:
    """Judge every bookmark of every selected incremental stream, before any request.

    A bookmark the stream cannot start from fails the run in one line; one in the
    future is a warning (the stream would read nothing, every run, until then).
    """
    bookmarks = state.get("bookmarks")
    others = sorted(set(state) - {"bookmarks", "currently_syncing"})
    if bookmarks is None and others:
        logger.warning(
            "--state: the state holds no 'bookmarks' (only %s): every stream starts without one",
            ", ".join(f"'{key}'" for key in others),
        )
    if not isinstance(bookmarks, dict):
        return
    now = datetime.now(timezone.utc)
    for stream in streams:
        bookmark = bookmarks.get(stream.name)
        judge = getattr(stream, "judge_bookmark", None)
        if not isinstance(bookmark, dict) or judge is None or not stream.selected:
            continue
        for value in _values(bookmark):
            warning = judge(value, now)
            if warning:
                logger.warning("%s", warning)
