"""Reading response bodies: JSON decoding once per response, and record selectors.

Paginators and streams both need the decoded body (paginators to count records
and read totals or next links), so it is decoded once, cached on the response,
with the fastest decoder available.

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
from typing import TYPE_CHECKING, Any

import orjson

from tap_generic_rest.errors import ResponseShapeError

if TYPE_CHECKING:
    import requests

_CACHE_ATTR = "_tap_generic_rest_body"


class BodyNotJSONError(ValueError):
    """The body could not be decoded (truncated, HTML error page, empty)."""


def loads(content: bytes) -> Any:
    """Decode JSON with orjson, the cyclic garbage collector paused meanwhile.

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


def json_body(response: requests.Response) -> Any:
    """Return the decoded JSON body of ``response``, decoding it at most once."""
    cached = response.__dict__.get(_CACHE_ATTR, _CACHE_ATTR)
    if cached is not _CACHE_ATTR:
        return cached
    try:
        body = loads(response.content)
    except orjson.JSONDecodeError as exc:
        msg = f"response body is not valid JSON ({exc.msg} at byte {exc.pos})"
        raise BodyNotJSONError(msg) from None
    response.__dict__[_CACHE_ATTR] = body
    return body


def lookup(body: Any, path: str) -> Any:
    """Follow a dotted ``path`` (``"paging.next"``) into a decoded body; None if absent."""
    value = body
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def select_records(response: requests.Response, selector: str, stream: str) -> list[Any]:
    """Return the records: a bare JSON array body, else the list at ``selector``.

    Anything else fails naming the stream, the selector and the status.
    """
    body = json_body(response)
    if isinstance(body, list):
        return body
    value = lookup(body, selector)
    if not isinstance(value, list):
        found = "nothing" if value is None else f"a JSON {type(value).__name__}"
        msg = (
            f"stream '{stream}': expected a list of records at '{selector}' in the response "
            f"(status {response.status_code}), or a bare JSON array, found {found}"
        )
        raise ResponseShapeError(msg)
    return value
