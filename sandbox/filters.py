"""Opsgenie-style ``query``, ``sort`` and ``order`` for the oncall lists.

The real API filters with a small query language (``updatedAt>=1700000000000``,
``status:open AND priority:P1``) and sorts by a few fields; the tap's incremental reads of
alerts and incidents depend on it. A selection is computed over the whole stream (filter,
then a stable sort), so paging with ``offset``/``limit`` walks the selected records.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from sandbox.data import Record
    from sandbox.sources import Endpoint


class BadRequestError(ValueError):
    """A query parameter the real API would reject with 400."""


_TERM = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(>=|<=|>|<|=|:)\s*(\S.*?)\s*$")
_AND = re.compile(r"\s+AND\s+", re.IGNORECASE)


def _ms(text: str) -> int:
    """An ISO 8601 time as epoch milliseconds."""
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == ">=":
        return bool(left >= right)
    if op == ">":
        return bool(left > right)
    if op == "<=":
        return bool(left <= right)
    if op == "<":
        return bool(left < right)
    return bool(left == right)


def _term(ep: Endpoint, text: str) -> Callable[[Record], bool]:
    """One ``field<op>value`` term as a record predicate (times compare in epoch ms)."""
    match = _TERM.match(text)
    if match is None:
        raise BadRequestError(f"Invalid query: {text!r}")
    name, op, value = match.groups()
    if name in ep.time_fields:
        try:
            bound = int(value)
        except ValueError:
            raise BadRequestError(f"Invalid query: {name} takes epoch milliseconds") from None

        def on_time(record: Record) -> bool:
            stamp = record.get(name)
            return isinstance(stamp, str) and _compare(op, _ms(stamp), bound)

        return on_time
    if op not in (":", "="):
        raise BadRequestError(f"Invalid query: {name} can only be compared with ':'")

    def on_value(record: Record) -> bool:
        return str(record.get(name)).lower() == value.lower()

    return on_value


def select(ep: Endpoint, params: dict[str, str], records: list[Record]) -> list[int] | None:
    """Positions of the records a request selects, in order; None: all, as served.

    ``params`` are the request's parameters besides paging, with the endpoint's default
    ``sort`` and ``order`` filled in. Raises BadRequestError for what the API rejects.
    """
    defaults = dict(ep.order)
    query = params.get("query", "").strip()
    sort = params.get("sort", defaults.get("sort", ""))
    order = params.get("order", defaults.get("order", "asc"))
    if order not in ("asc", "desc"):
        raise BadRequestError("The parameter 'order' must be asc or desc.")
    natural = (sort, order) == (defaults.get("sort", ""), defaults.get("order", "asc"))
    if not natural and sort not in ep.sorts:
        raise BadRequestError(f"Invalid sort field {sort!r}; sortable: {', '.join(ep.sorts)}")
    if not query and natural:
        return None
    tests = [_term(ep, term) for term in _AND.split(query)] if query else []
    chosen = [i for i, record in enumerate(records) if all(test(record) for test in tests)]
    if not natural:
        chosen.sort(key=lambda i: _sort_key(records[i].get(sort)), reverse=order == "desc")
    return chosen


def _sort_key(value: Any) -> tuple[bool, Any]:
    """Nulls first; ISO times of one format sort as strings."""
    return (value is not None, value if value is not None else "")
