"""Incremental replication: read only what changed since the bookmark, and resume.

A stream declares *how* its API can be asked for changes with an :class:`Incremental` spec
(the replication key, the query parameter that carries the bookmark and its format, constant
parameters such as a sort order, whether records arrive sorted by the key, where deleted records
are listed); the stream base class (``stream/base.py``) does the rest for every stream alike,
from the SDK's own state: the bookmark, ``start_date`` and ``lookback_seconds`` give a
:class:`ReadWindow` for the run, which builds the request filter, drops records before the
window where the API cannot filter, and turns listed deletions into ``_sdc_deleted_at`` records.

A bookmark never passes a record that was not emitted: the SDK advances it from emitted records
only; sorted streams (the API sorts by the key) advance it as they go and write STATE every
:data:`STATE_EVERY` records, so an interrupted run resumes there; unsorted ones keep it until
the stream ends. Filters are inclusive (``>=``) where the API allows, so records sharing the
bookmark's time are read again rather than lost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from tap_generic_rest.http.body import lookup

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

#: A STATE message at least this often (in records) while a stream is read.
STATE_EVERY = 1000
#: The Singer field a target reads to delete (or mark deleted) a record.
DELETED_AT = "_sdc_deleted_at"
#: How a deletion record's ``_sdc_deleted_at`` is declared in the stream's schema.
DELETED_AT_SCHEMA: dict[str, Any] = {
    "type": ["string", "null"],
    "format": "date-time",
    "description": "When the record was deleted at the source (Singer convention).",
}

TimeFormat = Literal["iso_ms", "iso", "epoch_ms", "epoch_s"]
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def to_moment(value: Any, numbers: TimeFormat = "epoch_s") -> datetime | None:
    """A bookmark, ``start_date`` or key value as an aware datetime; None when it is not one.

    Strings are ISO 8601 (no zone: UTC); numbers are epoch seconds, or milliseconds when
    ``numbers`` says ``epoch_ms``.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return _from_epoch(value / 1000 if numbers == "epoch_ms" else value)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return None


#: Digits as ``0``: ISO 8601 strings of one shape have one text after this.
_SHAPE = bytes.maketrans(b"0123456789", b"0" * 10)


def in_time_order(values: Sequence[Any]) -> Sequence[Any]:
    """The values as they compare in time: themselves, or their moments where they differ.

    ISO 8601 strings compare as text only when they share one shape in UTC; fractions that
    trim zeros (``00.3Z``, ``00.34Z``, ``01Z``) or offsets (``+01:00`` against ``Z``) do not,
    so where every value is a string that reads as a time, the moments are compared.
    Anything else (numbers, strings that are not times) compares as itself.
    """
    if not values or not all(isinstance(value, str) for value in values):
        return values
    try:
        joined = "".join(values).encode("ascii").translate(_SHAPE)
    except UnicodeEncodeError:
        return values
    shape = joined[: len(values[0])]
    if shape.endswith(b"Z") and joined == shape * len(values):
        return values  # one shape in UTC: the text order is the time order
    moments = [to_moment(value) for value in values]
    return values if None in moments else moments


def as_bound(value: Any, numbers: TimeFormat = "epoch_s", *, numbers_are_times: bool) -> Any:
    """A window's bound as it compares: a time as an aware datetime, any other value as itself.

    Strings that are ISO 8601 are times; numbers only where the key is declared a time
    (a built-in source's key, a ``date-time`` schema): elsewhere a number is an id or a
    counter, compared as a number, as dlt compares any cursor.
    """
    if value is None or (isinstance(value, int | float) and not numbers_are_times):
        return value
    moment = to_moment(value, numbers)
    return value if moment is None else moment


def before(value: Any, bound: Any, numbers: TimeFormat = "epoch_s") -> bool | None:
    """``value < bound`` (a bound from :func:`as_bound`); None when they do not compare.

    Against a time, a value compares as a time (numbers in ``numbers``' unit).
    """
    if isinstance(bound, datetime):
        moment = to_moment(value, numbers)
        return None if moment is None else moment < bound
    try:
        return bool(value < bound)
    except TypeError:
        return None


def _from_epoch(seconds: float) -> datetime | None:
    """Epoch seconds as a datetime; None past year 9999 (epoch ms read as s) or for NaN."""
    try:
        return _EPOCH + timedelta(seconds=seconds)
    except (OverflowError, ValueError):
        return None


def format_moment(moment: datetime, fmt: TimeFormat) -> str:
    """``moment`` as a request parameter: ISO 8601 UTC (with or without ms) or epoch."""
    utc = moment.astimezone(timezone.utc)
    if fmt == "epoch_ms":
        return str(math.floor((utc - _EPOCH) / timedelta(milliseconds=1)))
    if fmt == "epoch_s":
        return str(math.floor((utc - _EPOCH).total_seconds()))
    if fmt == "iso":
        return utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def moved_back(
    value: Any, lag: float, lookback: float, numbers: TimeFormat, *, numbers_are_times: bool
) -> Any:
    """A start value moved back by dlt's ``lag`` and ``lookback_seconds``, in its own form.

    A time goes back ``lag + lookback`` seconds (an ISO string comes back as one); a number
    by ``lag`` (dlt: the cursor's units), and by the lookback too where numbers are times;
    any other value (``"k3"``) cannot move and stays.
    """
    if isinstance(value, bool) or not (lag or lookback):
        return value
    if isinstance(value, int | float):
        if not numbers_are_times:
            return value - lag
        return value - lag - lookback * (1000 if numbers == "epoch_ms" else 1)
    moment = to_moment(value, numbers)
    if moment is None:
        return value
    try:
        moment -= timedelta(seconds=lag + lookback)
    except OverflowError:  # before year 1: everything
        moment = datetime.min.replace(tzinfo=timezone.utc)
    return format_moment(moment, "iso_ms")


@dataclass(frozen=True)
class StartValueFormat:
    """How a spec's start value is written where the API wants another form than the bookmark.

    ``pattern`` is one of the :data:`TimeFormat` names (epoch formats give integers) or a
    ``strftime`` pattern (Jira's JQL: ``"%Y-%m-%d %H:%M"``), written in ``zone`` (JQL reads
    times in the user's time zone). A tap extension: dlt's ``convert`` is a callable.
    """

    pattern: str
    zone: tzinfo = timezone.utc

    def render(self, value: Any, numbers: TimeFormat = "epoch_s") -> Any:
        """``value`` (a bookmark or initial value) in this form; unchanged if it is not a time."""
        moment = to_moment(value, numbers)
        if moment is None:
            return value
        if self.pattern in ("epoch_s", "epoch_ms"):
            return int(format_moment(moment, self.pattern))  # type: ignore[arg-type]
        if self.pattern in ("iso", "iso_ms"):
            return format_moment(moment, self.pattern)  # type: ignore[arg-type]
        return moment.astimezone(self.zone).strftime(self.pattern)


@dataclass(frozen=True)
class Incremental:
    """How a stream's API reads only what changed: declared once per stream, used by the base.

    ``param`` None means the API has no time filter: every page is read and records before
    the bookmark are dropped by the tap (which saves the target's work, not the API's).
    """

    #: The replication key: the record field holding when the record last changed.
    key: str
    #: Query parameter that carries the bookmark; None: the API cannot filter.
    param: str | None = None
    #: The parameter's value, ``{value}`` standing for the formatted bookmark.
    template: str = "{value}"
    #: How the bookmark is written into ``template``.
    format: TimeFormat = "iso_ms"
    #: Constant parameters sent with the filter (a sort order by the key).
    params: tuple[tuple[str, str], ...] = ()
    #: The API returns records sorted by the key (with ``params``): the bookmark advances
    #: during the run and an interrupted run resumes from its last STATE.
    sorted: bool = False
    #: Dotted path of the list of records deleted since the bookmark, if the API gives one.
    deletions: str | None = None
    #: Field of a listed deletion holding when it was deleted.
    deleted_at: str = "_deletedAt"
    #: What numeric key values count in (epoch seconds or milliseconds).
    numbers: TimeFormat = "epoch_s"

    def filter_params(self, since: datetime) -> dict[str, str]:
        """The query parameters that ask the API for records changed since ``since``."""
        if self.param is None:
            return {}
        value = self.template.format(value=format_moment(since, self.format))
        return {self.param: value, **dict(self.params)}


@dataclass(frozen=True)
class ReadWindow:
    """What one run of an incremental stream reads: decided once, before its first request.

    The one place for the window: the request (the spec's parameters, a dlt spec's
    ``start_param``/``end_param``) and the record filter both read it. ``start`` is the
    bookmark (or ``start_date``, ``initial_value``) the run starts from; ``since`` is
    ``start`` moved back by dlt's ``lag`` and ``lookback_seconds``, the oldest change read
    again; ``end`` is the exclusive end (``end_date``, dlt's ``end_value``). Bounds are
    :func:`as_bound` values: times as datetimes, other cursors (``"k3"``, ids) as themselves.
    ``filtered`` says the API filters (the request carries the spec's parameters), else the
    tap drops older records itself.
    """

    key: str
    since: Any
    start: Any
    spec: Incremental | None
    numbers: TimeFormat = "epoch_s"
    #: Records at or after it are not read (a bounded window, as for a backfill); None: no end.
    end: Any = None
    #: ``since`` and ``end`` in the records' own form: what a dlt spec's request carries.
    since_value: Any = None
    end_value: Any = None

    @property
    def filtered(self) -> bool:
        """Whether the API filters by the key (the spec's parameter is for this key)."""
        return self.spec is not None and self.spec.param is not None and self.spec.key == self.key

    @property
    def deletions(self) -> str | None:
        """Where the API lists deletions since the bookmark, when this run asks it to."""
        if self.spec is None or self.spec.key != self.key or self.since is None:
            return None
        return self.spec.deletions

    def params(self) -> dict[str, str]:
        """Query parameters for every request of the run.

        The spec's constant parameters (a sort by the key) go with every request, even
        without a bookmark, so a sorted stream is sorted from its first run on.
        """
        if not self.filtered or self.spec is None:
            return {}
        if not isinstance(self.since, datetime):
            return dict(self.spec.params)
        return self.spec.filter_params(self.since)

    def keeps(self, record: Mapping[str, Any]) -> bool:
        """Whether a record read is emitted: from ``since`` to before ``end``, or not comparable.

        Also where the API filters: a server that ignores the filter sends older
        records, dropped here as for an API that cannot filter.
        """
        value = record.get(self.key)
        if value is None:
            return True
        if self.end is not None and before(value, self.end, self.numbers) is False:
            return False
        return self.since is None or before(value, self.since, self.numbers) is not True

    def moves_bookmark(self, record: Mapping[str, Any]) -> bool:
        """Whether a record may advance the bookmark.

        Not one read again from before ``start`` (the lookback, the lag): it is emitted,
        but the bookmark stays where it was (and a sorted stream stays sorted).
        """
        if self.start is None or self.since is None or self.since == self.start:
            return True
        return before(record.get(self.key), self.start, self.numbers) is not True

    def deleted_records(self, body: Any, primary_keys: Sequence[str]) -> list[dict[str, Any]]:
        """The API's deletions as records: key fields, the key and ``_sdc_deleted_at``.

        The replication key is the deletion time, so the bookmark covers it and the next
        run does not list it again.
        """
        path = self.deletions
        if path is None or self.spec is None:
            return []
        listed = lookup(body, path)
        if not isinstance(listed, list):
            return []
        field = self.spec.deleted_at
        out = []
        for item in _objects(listed):
            when = item.get(field)
            record = {name: item.get(name) for name in primary_keys}
            record[self.key] = when
            record[DELETED_AT] = when
            out.append(record)
        return out


def _objects(items: Iterable[Any]) -> Iterable[dict[str, Any]]:
    return (item for item in items if isinstance(item, dict))


#: JSON Schema types as the kinds of value that compare with each other.
SCHEMA_KINDS = {"string": "string", "integer": "number", "number": "number"}


def kind_of(value: Any) -> str | None:
    """``"number"``, ``"string"``, ``"boolean"``...: values of one kind compare; None for null."""
    return kind_of_type(type(value))


def kind_of_type(kind: type) -> str | None:
    """The kind of the values of type ``kind`` (None for null)."""
    if kind is type(None):
        return None
    if issubclass(kind, bool):
        return "boolean"
    if issubclass(kind, int | float | Decimal):
        return "number"
    if issubclass(kind, str):
        return "string"
    return kind.__name__
