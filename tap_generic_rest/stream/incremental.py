"""The incremental side of every stream: the SDK's state turned into what one run reads.

:class:`IncrementalStream` sits between the SDK's ``RESTStream`` and the project's stream base:
it takes the replication key and method from the stream's :class:`Incremental` spec (or from
the catalog), decides the run's :class:`ReadWindow` once the SDK has written the starting value,
and hands the base class the request parameters, the record filter and the deletion records.
How the bookmark then advances over what was written is the layer above,
:mod:`~tap_generic_rest.stream.bookmarks`.
"""

from __future__ import annotations

from datetime import datetime
from operator import itemgetter
from typing import TYPE_CHECKING, Any, ClassVar

from singer_sdk import RESTStream
from singer_sdk.singerlib.catalog import REPLICATION_INCREMENTAL
from typing_extensions import override

from tap_generic_rest.errors import InputFileError
from tap_generic_rest.http.body import json_body
from tap_generic_rest.stream.replication import (
    SCHEMA_KINDS,
    STATE_EVERY,
    Incremental,
    ReadWindow,
    as_bound,
    before,
    kind_of,
    moved_back,
    to_moment,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    import requests
    from singer_sdk.helpers.types import Context
    from singer_sdk.singerlib import Catalog


#: The note in an unsorted stream's progress markers (the SDK's says "not resumable").
UNSORTED_NOTE = "Becomes the bookmark when the stream completes; until then the previous one holds."


class IncrementalStream(RESTStream[Any]):
    """A REST stream that reads only what changed when its spec or its catalog says so."""

    #: How the API reads only what changed (None: full table unless a catalog says otherwise).
    incremental: ClassVar[Incremental | None] = None
    #: Where a spec's window starts without a bookmark, and dlt's ``lag`` (seconds for times,
    #: else the cursor's units) and ``end_value`` (a bounded window): see :meth:`read_window`.
    initial_value: ClassVar[Any] = None
    lag: ClassVar[float] = 0
    end_value: ClassVar[Any] = None
    #: STATE at least this often, so an interrupted sorted stream resumes close to where it was.
    STATE_MSG_FREQUENCY = STATE_EVERY

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: What this run reads; None for a full-table run. Set before the first request.
        self.window: ReadWindow | None = None
        #: The stream's bookmark as the run started (STATE goes back to it on a sort error).
        self._started_at: dict[str, Any] = {}
        #: The kind of value the bookmark compares with, and the other kinds the key held.
        self._key_kind: str | None = None
        self._odd_kinds: set[str] = set()
        #: Records the server sent from before the bookmark although the request filtered.
        self._unfiltered = 0
        #: Drops records changed before the window where the API cannot filter; None: keep all.
        self.record_filter: Callable[[Mapping[str, Any]], bool] | None = None
        self._bookmark_gate: Callable[[Mapping[str, Any]], bool] | None = None
        self._bookmarks: dict[str, Any] | None = None
        self._sorted = False
        self._check_sorted = True
        self._told_unsorted = False
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

    @property
    def key_is_time(self) -> bool:
        """Whether the replication key is declared a time (else any comparable cursor).

        A built-in source's key (its :class:`Incremental` spec), or a key the schema
        declares ``date-time``; elsewhere a bookmark compares as itself, as dlt's does.
        """
        if self._spec is not None:
            return True
        prop = self.schema.get("properties", {}).get(self.replication_key or "", {})
        return isinstance(prop, dict) and prop.get("format") == "date-time"

    def read_window(self, context: Context | None) -> ReadWindow | None:
        """What this run reads: the one place its start, lookback, lag and end are decided.

        None for a full-table run. Unbounded, the run starts from the SDK's starting value
        (bookmark or ``start_date``), else a spec's ``initial_value``; dlt's ``lag`` and
        ``lookback_seconds`` move a starting value back. A bounded window reads exactly
        from its start to before its end, state aside: dlt's ``initial_value`` to
        ``end_value`` where a spec sets one (it wins over the settings, as in dlt), else
        ``start_date`` (or ``initial_value``) to ``end_date``.
        """
        key = self.replication_key
        if self.replication_method != REPLICATION_INCREMENTAL or not key:
            return None
        numbers, times = self.key_numbers, self.key_is_time
        lag, lookback = self.lag, float(self.config.get("lookback_seconds") or 0)
        if self.end_value is not None:
            start, end = self.initial_value, self.end_value
        elif self.bookmark_frozen:
            start, end = self.config.get("start_date"), self.config.get("end_date")
            start = self.initial_value if start is None else start
        else:
            end = None
            start = self.get_starting_replication_key_value(context)
            if start is not None and times and to_moment(start, numbers) is None:
                raise InputFileError(self._not_a_time(start))
            if start is None:
                start, lag, lookback = self.initial_value, 0, 0  # dlt: no lag on it
        if self.bookmark_frozen:
            lag = lookback = 0  # a bounded window reads exactly its bounds
        since = moved_back(start, lag, lookback, numbers, numbers_are_times=times)
        return ReadWindow(
            key,
            since=as_bound(since, numbers, numbers_are_times=times),
            start=as_bound(start, numbers, numbers_are_times=times),
            spec=self._spec,
            numbers=numbers,
            end=as_bound(end, numbers, numbers_are_times=times),
            since_value=since,
            end_value=end,
        )

    @property
    def bookmark_frozen(self) -> bool:
        """Whether this run reads a bounded window and leaves the bookmark as it was.

        ``end_date``, or a spec's ``end_value``: a backfill of one window then never moves
        the live bookmark, whichever state it runs with.
        """
        return bool(self.config.get("end_date")) or (
            self.replication_key is not None and self.end_value is not None
        )

    def _not_a_time(self, value: Any) -> str:
        """The one line for a bookmark the stream cannot start from."""
        msg = (
            f"--state: the bookmark of stream '{self.name}' ({self.replication_key}) "
            f"is not a time: {value!r}"
        )
        if isinstance(value, int | float) and not isinstance(value, bool):
            unit = "milliseconds" if self.key_numbers == "epoch_ms" else "seconds"
            msg += f" (numbers are read as epoch {unit}; write the bookmark as ISO 8601)"
        return msg

    def judge_bookmark(self, value: Any, now: datetime) -> str | None:
        """Check a bookmark of the --state file before any request (config/state_checks.py).

        Raises :class:`InputFileError` for one the stream cannot start from (not a time,
        where the key is declared one); returns a warning for a time after ``now`` (the
        stream would read nothing until then). Other cursors compare as themselves.
        """
        key = self.replication_key
        if self.replication_method != REPLICATION_INCREMENTAL or not key:
            return None
        moment = to_moment(value, self.key_numbers)
        if self.key_is_time:
            if moment is None:
                raise InputFileError(self._not_a_time(value))
        elif not isinstance(value, str) or moment is None:
            # Not declared a time: any value dlt could compare (a number, "k3") is a cursor.
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise InputFileError(self._not_a_cursor(value))
            return None
        # A number may be a counter, not a time, where no spec says the key is one.
        if moment <= now or (self._spec is None and not isinstance(value, str)):
            return None
        return (
            f"--state: the bookmark of stream '{self.name}' ({key}) is {value!r}, later than "
            f"the run's clock ({now.strftime('%Y-%m-%dT%H:%M:%SZ')}): the stream reads only "
            "what changes after it; check the state and the clock"
        )

    def _not_a_cursor(self, value: Any) -> str:
        """The one line for a bookmark no cursor value compares with (an object, a boolean)."""
        return (
            f"--state: the bookmark of stream '{self.name}' ({self.replication_key}) "
            f"is not a cursor value (a time, a number or a string): {value!r}"
        )

    def begin_window(self, context: Context | None) -> None:
        """Decide the run's window (after the SDK wrote its starting value, before requests)."""
        window = self.window = self.read_window(context)
        if window is None:
            self.record_filter = self._bookmark_gate = self._bookmarks = None
            return
        self.record_filter = None
        if window.since is not None or window.end is not None:
            # Also where the API filters the start: a server may ignore the filter.
            self.record_filter = self._counting(window) if window.filtered else window.keeps
        moved = window.since is not None and window.since != window.start
        self._bookmark_gate = window.moves_bookmark if moved else None
        self._bookmarks = self.state_manager.get_context_state(context)
        self._sorted = self.is_sorted and self.state_partitioning_keys is None  # as the SDK
        self._check_sorted = self.check_sorted
        self._started_at = dict(self._bookmarks)
        # A sorted stream compares each value with the bookmark it starts from; an unsorted
        # one only values of this run (the SDK's progress markers): the schema's kind wins.
        marked = kind_of(self._bookmarks.get("replication_key_value"))
        declared = self._schema_kind()
        self._key_kind = (marked or declared) if self._sorted else (declared or marked)

    def page_is_all_new(self, records: list[dict[str, Any]]) -> bool:
        """Whether a page of a filtered stream holds nothing from before the window, at once.

        The usual page where the API filters: key values that are ISO 8601 strings of one
        width in UTC compare as text, so the earliest is found without parsing each; the
        record filter runs record by record only on a page where that does not hold.
        """
        window = self.window
        key = self.replication_key
        if window is None or not window.filtered or key is None:
            return False
        # Only a start that is a time, and no end bound.
        if not isinstance(window.since, datetime) or window.end is not None:
            return False
        try:
            values = list(map(itemgetter(key), records))
            earliest = min(values)  # a TypeError for null or mixed kinds
            widths = set(map(len, values))
        except (KeyError, TypeError, ValueError):
            return False
        if not isinstance(earliest, str) or len(widths) != 1:
            return False
        width = widths.pop()
        if set("".join(values)[width - 1 :: width]) != {"Z"}:  # every value in UTC
            return False
        moment = to_moment(earliest, window.numbers)
        return moment is not None and moment >= window.since

    def _counting(self, window: ReadWindow) -> Callable[..., bool]:
        """The window's filter, counting what it drops before the start the API was asked for.

        Those the server sent although asked not to (it ignored its filter); records past
        ``end_date`` are not counted.
        """
        keeps, end, numbers = window.keeps, window.end, window.numbers

        def keep(record: Mapping[str, Any]) -> bool:
            if keeps(record):
                return True
            if end is None or before(record.get(window.key), end, numbers) is not False:
                self._unfiltered += 1
            return False

        return keep

    def _schema_kind(self) -> str | None:
        """The JSON kind the schema gives the replication key, when it gives one."""
        prop = self.schema.get("properties", {}).get(self.replication_key or "", {})
        types = prop.get("type", [])
        kinds = {SCHEMA_KINDS.get(t) for t in ([types] if isinstance(types, str) else types)}
        kinds.discard(None)
        return kinds.pop() if len(kinds) == 1 else None

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
        if bookmark is None or start is None:  # a cursor that is not a time: the bookmark
            return value
        return value if bookmark >= start else start_date_value
