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

Bodies the decoders cannot hold are failures of their own, naming the response
(:func:`json_body`): one nested deeper than orjson's 1,024 levels, or than the
standard library's recursion allows, is a :class:`BodyTooDeepError`, never a
``RecursionError``. ``NaN``, ``Infinity`` and ``-Infinity`` (which the standard
library accepts and JSON has not) cannot be written to a target as numbers: they
become null, and a warning names the response and the fields (once per stream).
A body that holds no list of records says what the server said, when it answered
with an error envelope on a 200 (``{"error": {"message": ...}}``, ``{"errors": [...]}``).

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
import logging
import math
import sys
import threading
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

import orjson

from tap_generic_rest.errors import ResponseShapeError
from tap_generic_rest.http.selectors import by_jsonpath, detected, first_value, is_jsonpath
from tap_generic_rest.http.transport import label_of
from tap_generic_rest.redact import redact

if TYPE_CHECKING:
    import requests

_CACHE_ATTR = "_tap_generic_rest_body"


class BodyNotJSONError(ValueError):
    """The body could not be decoded (truncated, HTML error page, empty)."""


class BodyTooDeepError(ResponseShapeError):
    """The body nests deeper, or holds a longer number, than the decoders go (never retried)."""


class _TooDeepError(ValueError):
    pass


class _NumberTooLongError(ValueError):
    pass


_LOGGER = logging.getLogger("tap-generic-rest")
#: (stream and path, field) pairs already warned about: one warning each per run.
_WARNED: set[tuple[str, str]] = set()
_WARNED_LOCK = threading.Lock()
_NONFINITE_WORDS = (b"NaN", b"Infinity")


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


def _exact_or_too_deep(content: bytes) -> Any:
    try:
        return exact_loads(content)
    except RecursionError:
        raise _TooDeepError from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise
    except ValueError:  # an integer past Python's 4,300 digits (int_max_str_digits)
        raise _NumberTooLongError from None


def _decode(content: bytes) -> tuple[Any, bool]:
    """The decoded body, and whether the standard library's decoder read it."""
    if has_long_number(content):
        return _exact_or_too_deep(content), True
    try:
        return _fast_loads(content), False
    except orjson.JSONDecodeError as exc:
        if "recursion" in str(exc).lower():  # deeper than orjson's 1,024 levels
            raise _TooDeepError from None
        # A BOM, a lone surrogate, NaN... or really not JSON.
        return _exact_or_too_deep(content), True


def loads(content: bytes) -> Any:
    """Decode a body with orjson where that is exact, else with :func:`exact_loads`."""
    return _decode(content)[0]


def _nulled_nonfinite(body: Any) -> list[str]:
    """Replace every NaN and infinity in ``body`` by None; the names of their fields."""
    fields: list[str] = []
    todo = [body]
    while todo:
        value = todo.pop()
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(item, float) and not math.isfinite(item):
                value[key] = None
                name = str(key) if isinstance(value, dict) else "[]"
                if name not in fields:
                    fields.append(name)
            elif isinstance(item, dict | list):
                todo.append(item)
    return fields


def _warn_nonfinite(response: requests.Response, fields: list[str]) -> None:
    label = label_of(response)
    with _WARNED_LOCK:
        new = [field for field in fields if (label, field) not in _WARNED]
        _WARNED.update((label, field) for field in new)
    if new:
        _LOGGER.warning(
            "%s: the server sent NaN or Infinity in %s %s, which JSON has no number for: "
            "written as null",
            label,
            "field" if len(new) == 1 else "fields",
            ", ".join(f"'{field}'" for field in new),
        )


def json_body(response: requests.Response) -> Any:
    """Return the decoded JSON body of ``response``, decoding it at most once."""
    cached = response.__dict__.get(_CACHE_ATTR, _CACHE_ATTR)
    if cached is not _CACHE_ATTR:
        return cached
    split = _split(response)
    if split is not None:
        response.__dict__[_CACHE_ATTR] = split.body
        return split.body
    content = response.content
    try:
        body, exact = _decode(content)
    except _NumberTooLongError:
        msg = (
            f"{label_of(response)}: the response holds a number longer than Python reads "
            f"({sys.get_int_max_str_digits():,} digits); no record of it was emitted"
        )
        raise BodyTooDeepError(msg) from None
    except _TooDeepError:
        msg = (
            f"{label_of(response)}: the response is nested too deep to decode "
            "(arrays or objects about 1,000 levels deep or more); no record of it was emitted"
        )
        raise BodyTooDeepError(msg) from None
    except json.JSONDecodeError as exc:
        msg = f"response body is not valid JSON ({exc.msg} at char {exc.pos})"
        raise BodyNotJSONError(msg) from None
    except UnicodeDecodeError as exc:
        msg = f"response body is not valid JSON (not {exc.encoding} at byte {exc.start})"
        raise BodyNotJSONError(msg) from None
    # Only the standard library's decoder lets NaN and Infinity in.
    if exact and isinstance(body, dict | list) and any(w in content for w in _NONFINITE_WORDS):
        fields = _nulled_nonfinite(body)
        if fields:
            _warn_nonfinite(response, fields)
    response.__dict__[_CACHE_ATTR] = body
    return body


def ignore_response(response: requests.Response) -> None:
    """Read ``response`` as a page without records from here on (dlt's ``ignore`` action)."""
    response.__dict__[_CACHE_ATTR] = []


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
    """Follow a dotted ``path`` (``"paging.next"``) into a decoded body; None if absent.

    A JSONPath (``$.meta..next``, a spec's) gives the first value it finds.
    """
    if path.startswith("$"):
        return first_value(body, path)
    value = body
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


#: The selector of a spec resource without ``data_selector``: dlt's detection
#: (``http/selectors.py``).
AUTO_SELECTOR = ""


def select_records(response: requests.Response, selector: str, stream: str) -> list[Any]:
    """Return the records: a bare JSON array body, else the list at ``selector``.

    Anything else fails naming the stream, the selector and the status.
    """
    body = json_body(response)
    if selector == AUTO_SELECTOR or is_jsonpath(selector):  # a spec's: dlt's rules
        records = detected(body) if selector == AUTO_SELECTOR else by_jsonpath(body, selector)
        # A bare array that the selector finds nothing in is the records, as for every
        # stream (the real Statuspage answers so); dlt would read an empty page.
        return body if not records and isinstance(body, list) else records
    if isinstance(body, list):
        return body
    value = lookup(body, selector)
    if not isinstance(value, list):
        found = "nothing" if value is None else f"a JSON {type(value).__name__}"
        where = f"at '{selector}'" if selector else "as the body or its only list"
        said = server_message(body)
        msg = (
            f"stream '{stream}': expected a list of records {where} in the response "
            f"(status {response.status_code}), or a bare JSON array, found {found}"
            + (f"; the server said: {said}" if said else "")
        )
        raise ResponseShapeError(msg)
    return value


#: Longest server message quoted in an error line.
_MESSAGE_LIMIT = 300
#: Where error envelopes keep their message: ``{"error": ...}``, ``{"errors": [...]}``...
_ERROR_FIELDS = ("error", "errors", "fault", "message", "error_description", "detail", "title")
_MESSAGE_FIELDS = ("message", "error_description", "description", "detail", "faultstring")


def server_message(body: Any) -> str | None:
    """The message of an error envelope (``{"error": {"message": "invalid token"}}``), masked.

    None when the body holds none (an object without those fields, a list).
    """
    if not isinstance(body, dict):
        return None
    for field in _ERROR_FIELDS:
        text = _message_in(body.get(field))
        if text:
            one_line = " ".join(redact(text).split())
            return one_line[:_MESSAGE_LIMIT]
    return None


def _message_in(value: Any, depth: int = 0) -> str | None:
    """A message in an envelope's error field: a string, an object's message, a list's first."""
    if isinstance(value, str):
        return value or None
    if depth > 2:
        return None
    if isinstance(value, list):
        found = [text for item in value[:3] if (text := _message_in(item, depth + 1))]
        return "; ".join(found) or None
    if isinstance(value, dict):
        for field in (*_MESSAGE_FIELDS, "error", "code"):
            text = _message_in(value.get(field), depth + 1)
            if text:
                return text
    return None
