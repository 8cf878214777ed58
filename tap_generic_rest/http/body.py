"""Reading response bodies: JSON decoding once per response, and record selectors.

Paginators and streams both need the decoded body (paginators to count records
and read totals or next links), so it is decoded once, cached on the response.

Two decoders, one result: every value exactly as the server sent it.

* orjson, for ordinary pages: fast, and exact for everything it accepts except
  integers beyond 64 bits and numbers with more significant digits than a double
  holds, which it turns into (rounded) floats without a word.
* the standard library's ``json`` (:func:`exact_loads`), for the pages that need
  it: a body orjson refuses that ``json`` accepts (a UTF-8 byte order mark, a
  lone UTF-16 surrogate such as Node servers write when they cut an emoji in
  half, ``NaN``), and a body holding a number of 16 or more characters, the only
  place where such a number can be (:func:`has_long_number`). Integers come out
  exact at any size, and a number a float cannot hold digit for digit comes out as
  a ``Decimal``.

Values orjson cannot write (a ``Decimal``, a huge integer, a lone surrogate) send
their record down the SDK's writer, which writes them exactly (see ``records/writer.py``).

Envelopes: a body that is an object holds the records at the stream's selector
(``data``, ``update``, ``paging``-style envelopes of the seeds). A body that is a
bare JSON array *is* the records, whatever the selector: the real Statuspage
lists and Jira's application roles answer that way, so ``base_url`` can point at
the real API. Everything that reads records (streams, paginators, the prefetcher)
goes through :func:`select_records`, and :func:`lookup` finds nothing in an
array, so a bare array carries no total and no next link.
"""

from __future__ import annotations

import gc
import json
import math
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from tap_generic_rest.errors import ResponseShapeError

if TYPE_CHECKING:
    import requests

_CACHE_ATTR = "_tap_generic_rest_body"


class BodyNotJSONError(ValueError):
    """The body could not be decoded (truncated, HTML error page, empty)."""


#: A number token of 16 characters or more is the only way a body can hold a number that a
#: double does not hold exactly (any number of 15 significant digits round-trips through
#: one). A number token starts a JSON value: at the start of the body, or after ``:``, ``,``
#: or ``[`` and any whitespace. The body is mapped byte for byte (``bytes.translate``, C
#: speed) to "0" for a character of a number, "1" for what may come before one, "x" for
#: the rest; a long number is then a run of sixteen "0"s after a "1". Runs of "0"s are
#: searched for alone (several times faster than with the "1": the search skips ahead on
#: every "x" and "1"), then what precedes each is looked at. Digits inside strings (hex
#: ids, phone numbers) do not count, unless a string holds such a sequence too, which
#: only costs the exact decoder.
_NUMBER_MAP = bytes(
    ord("0") if byte in b"0123456789.-+eE" else ord("1") if byte in b":,[ \t\n\r" else ord("x")
    for byte in range(256)
)
_LONG_RUN = b"0" * 16
_BEFORE_NUMBER = ord("1")
#: Bytes mapped at a time, so that a body's copy never costs more than this.
_SCAN_CHUNK = 1 << 16


def has_long_number(content: bytes) -> bool:
    """Whether ``content`` may hold a number of 16 characters or more (never misses one)."""
    for start in range(0, len(content), _SCAN_CHUNK):
        # From the byte before the chunk (what precedes a run starting with it) to the end
        # of a run starting in it; a run starting before the chunk was the last one's.
        begin = max(start - 1, 0)
        mapped = content[begin : start + _SCAN_CHUNK + len(_LONG_RUN) - 1].translate(_NUMBER_MAP)
        at = mapped.find(_LONG_RUN, 0 if begin == 0 else 1)
        while at >= 0:
            if at == 0 or mapped[at - 1] == _BEFORE_NUMBER:  # 0: the body starts with it
                return True
            at = mapped.find(_LONG_RUN, at + 1)
    return False


def _exact_number(text: str) -> float | Decimal:
    """A float when it holds the number's value exactly as written, else a Decimal.

    ``0.1``, ``1.50`` and ``1e5`` stay floats (written back as ``0.1``, ``1.5`` and
    ``100000.0``: the same values); ``3.14159265358979323846`` becomes a Decimal.
    """
    value = float(text)
    if math.isfinite(value) and Decimal(repr(value)) == Decimal(text):
        return value
    return Decimal(text)


def exact_loads(content: bytes) -> Any:
    """Decode like the standard library, with every number exact.

    Raises ``ValueError`` (``json.JSONDecodeError`` or ``UnicodeDecodeError``) for a
    body the standard library refuses too.
    """
    return json.loads(content, parse_float=_exact_number)


def _fast_loads(content: bytes) -> Any:
    """orjson, the cyclic garbage collector paused meanwhile.

    A page of records is tens of thousands of new containers: with the collector
    running, every few hundred of them start a collection, and every few pages a
    full one walks all of the tap's objects, which made decoding about twice as
    slow. Decoded JSON holds no reference cycles, so those collections find nothing.
    """
    if not gc.isenabled():  # paused already (by another thread decoding, or by the caller)
        return orjson.loads(content)
    gc.disable()
    try:
        return orjson.loads(content)
    finally:
        gc.enable()


def loads(content: bytes) -> Any:
    """Decode a body with orjson where that is exact, else with :func:`exact_loads`."""
    if has_long_number(content):
        return exact_loads(content)
    try:
        return _fast_loads(content)
    except orjson.JSONDecodeError:
        return exact_loads(content)  # a BOM, a lone surrogate... or really not JSON


def json_body(response: requests.Response) -> Any:
    """Return the decoded JSON body of ``response``, decoding it at most once."""
    cached = response.__dict__.get(_CACHE_ATTR, _CACHE_ATTR)
    if cached is not _CACHE_ATTR:
        return cached
    split = _split(response)
    if split is not None:
        response.__dict__[_CACHE_ATTR] = split.body
        return split.body
    try:
        body = loads(response.content)
    except json.JSONDecodeError as exc:
        msg = f"response body is not valid JSON ({exc.msg} at char {exc.pos})"
        raise BodyNotJSONError(msg) from None
    except UnicodeDecodeError as exc:
        msg = f"response body is not valid JSON (not {exc.encoding} at byte {exc.start})"
        raise BodyNotJSONError(msg) from None
    response.__dict__[_CACHE_ATTR] = body
    return body


# --- the fast record path's split (records/fast_path.py) ------------------------------------

_SPLITTER_ATTR = "_tap_generic_rest_splitter"
_SPLIT_ATTR = "_tap_generic_rest_split"


class Splitter(Protocol):
    """Splits a body into its records' bytes and the rest, decoded; None: decode it whole."""

    def __call__(self, content: bytes) -> Any:
        """A split page (``fast_path.Split``: its ``body`` is what json_body returns) or None."""
        ...


def mark_split(response: requests.Response, splitter: Splitter) -> None:
    """Have :func:`json_body` try ``splitter`` on the response's body before decoding it."""
    response.__dict__[_SPLITTER_ATTR] = splitter


def split_of(response: requests.Response) -> Any:
    """The split :func:`json_body` made of the response's body, or None (decoded whole)."""
    return response.__dict__.get(_SPLIT_ATTR)


def _split(response: requests.Response) -> Any:
    splitter: Splitter | None = response.__dict__.get(_SPLITTER_ATTR)
    if splitter is None:
        return None
    split = splitter(response.content)
    if split is not None:
        response.__dict__[_SPLIT_ATTR] = split
    return split


def exact_number(text: str) -> float | Decimal:
    """A JSON number's text as :func:`exact_loads` reads it (a float, else a Decimal)."""
    return _exact_number(text)


def lookup(body: Any, path: str) -> Any:
    """Follow a dotted ``path`` (``"paging.next"``) into a decoded body; None if absent."""
    value = body
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


#: The selector of a spec resource without ``data_selector``: the body itself if it is a
#: list (as for every selector), else the body's only list (dlt's default).
AUTO_SELECTOR = ""


def _only_list(body: Any) -> Any:
    if not isinstance(body, dict):
        return None
    lists = [value for value in body.values() if isinstance(value, list)]
    return lists[0] if len(lists) == 1 else None


def select_records(response: requests.Response, selector: str, stream: str) -> list[Any]:
    """Return the records: a bare JSON array body, else the list at ``selector``.

    Anything else fails naming the stream, the selector and the status.
    """
    body = json_body(response)
    if isinstance(body, list):
        return body
    value = lookup(body, selector) if selector != AUTO_SELECTOR else _only_list(body)
    if not isinstance(value, list):
        found = "nothing" if value is None else f"a JSON {type(value).__name__}"
        where = f"at '{selector}'" if selector else "as the body or its only list"
        msg = (
            f"stream '{stream}': expected a list of records {where} in the response "
            f"(status {response.status_code}), or a bare JSON array, found {found}"
        )
        raise ResponseShapeError(msg)
    return value
