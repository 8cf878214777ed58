"""Page guards: each record once, and no loop, while the data changes under the tap.

Real data changes while a tap pages through it. One insert before the current
offset shifts every later record one place forward, so the next page starts
with the record that ended the previous one (with a page size of 1, the next
page *is* the previous one). A deletion shifts them back, so one record slips
past the page boundary unseen (nothing in the responses can show which; the
next run reads it). And a broken server may ignore the offset altogether.

:class:`PageGuard` (mixed into every paginator) tells these apart, on each page,
before any of its records is emitted (``GenericRestStream.parse_response`` calls
:meth:`PageGuard.check_page`):

* records already emitted from the last pages (same primary key) are dropped,
  with one warning per page saying how many moved; what is remembered is the
  keys of the last two pages (at least :data:`MIN_REMEMBERED` keys), so memory
  stays flat in the size of the stream;
* a page that brings nothing new is allowed once in a row (an insert with a
  page size of 1 looks exactly like that); a second one in a row, or a page that
  repeats one from before the remembered window, is a server that is not paging
  on: the stream fails, with no duplicate record written.
"""

from __future__ import annotations

import hashlib
import logging
from collections import deque
from itertools import repeat
from operator import methodcaller
from typing import TYPE_CHECKING, Any

import orjson

from tap_generic_rest.errors import PaginationError
from tap_generic_rest.http.body import select_records

if TYPE_CHECKING:
    from collections.abc import Hashable, Sequence

    import requests

#: Fewest record keys remembered, whatever the page size (a page size of 1 would
#: otherwise remember two records, and two inserts between pages would fail the run).
MIN_REMEMBERED = 100
#: Pages in a row that bring no new record before the server is taken as looping.
MAX_STALE_PAGES = 1

_logger = logging.getLogger("tap_generic_rest.paging.guards")


def _digest(value: Any) -> bytes:
    """16 bytes standing for a value (a page's fingerprint, a record without a key)."""
    return hashlib.blake2b(_dumps(value), digest_size=16).digest()


def _dumps(value: Any) -> bytes:
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # a Decimal, a huge integer, a lone surrogate: the exact decoder's values
        return repr(value).encode("utf-8", "surrogatepass")


class PageGuard:
    """Drops records a changing dataset moved across a page boundary; fails on loops.

    Subclasses set ``stream`` and ``records_key`` and call :meth:`_reset_guard`.
    """

    stream: str
    records_key: str
    primary_keys: Sequence[str]
    #: True when the last page checked held records already emitted (the data moved).
    moved: bool

    def _reset_guard(self, primary_keys: Sequence[str] = ()) -> None:
        self.primary_keys = tuple(primary_keys)
        self.moved = False
        self._fingerprints: set[bytes] = set()
        self._recent_fingerprints: deque[bytes] = deque(maxlen=2)
        self._pages: deque[set[Hashable]] = deque()
        self._remembered = 0
        self._stale = 0
        self._checked: requests.Response | None = None
        self._kept: list[Any] = []

    def identity(self, record: Any) -> Hashable:
        """What makes a record the same record: its primary key, else all of it."""
        keys = self.primary_keys
        if keys and isinstance(record, dict):
            if len(keys) == 1:
                return ("k", _hashable(record.get(keys[0])))
            return ("k", *(_hashable(record.get(key)) for key in keys))
        return ("r", _digest(record))

    def identities(self, records: list[Any]) -> list[Hashable]:
        """Each record's :meth:`identity`; a page keyed by one scalar field without a loop."""
        keys = self.primary_keys
        if len(keys) == 1 and set(map(type, records)) == {dict}:
            values = list(map(methodcaller("get", keys[0]), records))
            if _SCALARS.issuperset(map(type, values)):
                return list(zip(repeat("k"), values))
        return [self.identity(record) for record in records]

    def check_page(self, response: requests.Response) -> list[Any]:
        """The page's records not emitted yet; raise PaginationError for a looping server.

        Running it again for the same response returns the same records.
        """
        if response is self._checked:
            return self._kept
        records = select_records(response, self.records_key, self.stream)
        self._checked = response
        self._kept = self._check(response, records)
        return self._kept

    #: Whether a page without records goes on to the next link or cursor (dlt's links, and
    #: its cursors without ``stop_after_empty_page``); else an empty page ends the stream.
    empty_pages_go_on: bool = False

    def continue_if_empty(self, response: requests.Response) -> bool:
        """Keep paging after a page whose records had all been emitted already (or none came)."""
        return self.empty_pages_go_on or bool(
            select_records(response, self.records_key, self.stream)
        )

    def _check(self, response: requests.Response, records: list[Any]) -> list[Any]:
        self.moved = False
        if not records:
            return records
        fingerprint = _digest([records[0], records[-1]])
        identities = self.identities(records)
        keys = set(identities)
        if all(page.isdisjoint(keys) for page in self._pages):  # the usual page: nothing moved
            kept = records
        else:
            seen = set().union(*self._pages)
            kept = [r for r, key in zip(records, identities, strict=True) if key not in seen]
        if not kept:
            self._stale += 1
            if self._stale > MAX_STALE_PAGES or (
                fingerprint in self._fingerprints and fingerprint not in self._recent_fingerprints
            ):
                msg = (
                    f"stream '{self.stream}': the page {self._where(response)} repeats "
                    "records already read; the server is not paging on"
                )
                raise PaginationError(msg)
        else:
            self._stale = 0
            if fingerprint in self._fingerprints and fingerprint not in self._recent_fingerprints:
                msg = (
                    f"stream '{self.stream}': the page {self._where(response)} repeats an "
                    "earlier page; the server is not paging on"
                )
                raise PaginationError(msg)
        if len(kept) < len(records):
            self.moved = True
            _logger.warning(
                "stream '%s': %d of %d records of the page %s were read already (the data "
                "changed while paging: records moved across a page boundary); not emitted again",
                self.stream,
                len(records) - len(kept),
                len(records),
                self._where(response),
            )
        self._remember(fingerprint, keys)
        return kept

    def _remember(self, fingerprint: bytes, identities: set[Hashable]) -> None:
        self._fingerprints.add(fingerprint)
        self._recent_fingerprints.append(fingerprint)
        self._pages.append(identities)
        self._remembered += len(identities)
        # The last two pages, and older ones while fewer than MIN_REMEMBERED keys.
        while len(self._pages) > 2 and self._remembered - len(self._pages[0]) >= MIN_REMEMBERED:
            self._remembered -= len(self._pages.popleft())

    def _where(self, response: requests.Response) -> str:
        return f"at {response.request.path_url.split('?', 1)[0]}" if response.request else ""


#: Classes of primary key values that are their own identity.
_SCALARS = frozenset({str, int, float, bool, type(None)})


def _hashable(value: Any) -> Hashable:
    if isinstance(value, (dict, list)):
        return _dumps(value)
    return value  # type: ignore[no-any-return]  # a decoded JSON scalar
