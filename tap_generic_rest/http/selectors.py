"""Records found as dlt finds them: a JSONPath ``data_selector``, or dlt's detection without one.

Spec resources select their records with dlt's rules, read by ``jsonpath-ng`` (the library
dlt itself uses), so every JSONPath dlt accepts (``$.data[*]``, ``$..items[*]``,
``$.results[?(@.active)]``) means the same: the values found are the records; exactly one
value found that is a list is the list; one object is one record (a detail endpoint,
``data_selector: $``); nothing, or ``null``, is an empty page.

Without a selector, dlt looks at the body: a list is the records; in an object, the first
list (up to three levels deep) under a key such as ``data``, ``items`` or ``results``, else
the least nested list; an object without any list is one record.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar, cast

from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
from jsonpath_ng.ext.parser import parse

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    from jsonpath_ng import JSONPath

T = TypeVar("T")

#: Keys dlt's detector takes for a list of records, and those it never does.
RECORD_KEYS = frozenset(
    {
        "data",
        "items",
        "results",
        "entries",
        "records",
        "rows",
        "entities",
        "payload",
        "content",
        "objects",
        "values",
    }
)
NOT_RECORD_KEYS = frozenset({"meta", "metadata", "pagination", "links", "extras", "headers"})
_MAX_DEPTH = 2


class SelectorError(ValueError):
    """A ``data_selector`` that is not a JSONPath jsonpath-ng reads."""


def is_jsonpath(selector: str) -> bool:
    """Whether a selector is a JSONPath (the form spec selectors are compiled to)."""
    return selector.startswith("$")


@lru_cache(maxsize=256)
def compiled(selector: str) -> JSONPath:
    """The parsed JSONPath (a SelectorError saying why it is not one)."""
    try:
        return parse(selector)
    except (JsonPathLexerError, JsonPathParserError, Exception) as exc:  # noqa: BLE001
        raise SelectorError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None


def as_jsonpath(selector: str) -> str:
    """A dlt ``data_selector`` as a JSONPath string (``data`` is ``$.data``), checked."""
    text = selector.strip()
    path = text if text.startswith("$") else f"$.{text}"
    compiled(path)
    return path


def by_jsonpath(body: Any, selector: str) -> list[Any]:
    """The records at ``selector`` in a decoded body, by dlt's rules (see the module)."""
    values = [match.value for match in compiled(selector).find(body)]
    found: Any = values[0] if len(values) == 1 else values
    if found is None:
        return []
    return found if isinstance(found, list) else [found]


def first_value(body: Any, path: str) -> Any:
    """The first value ``path`` finds in a decoded body (dlt's paginators read paths so)."""
    matches = compiled(path).find(body)
    return matches[0].value if matches else None


def detected(body: Any) -> list[Any]:
    """The records of a body without a selector, as dlt's detector finds them."""
    if not isinstance(body, dict):
        return body if isinstance(body, list) else ([] if body is None else [body])
    path = detected_path(body, _as_object, _is_list)
    if path is None:
        # dlt keeps the selector it found on the first page: a later page whose records
        # key is null (``{"data": null}``) is empty, not one record.
        if any(body.get(key, 0) is None for key in RECORD_KEYS):
            return []
        return [body]
    value: Any = body
    for key in path:
        value = value[key]
    return cast("list[Any]", value)


def detected_path(
    body: Mapping[str, T],
    as_object: Callable[[T], Mapping[str, T] | None],
    is_list: Callable[[T], bool],
) -> tuple[str, ...] | None:
    """The keys to the list dlt's detector takes in an object body; None: it holds no list.

    The first list (up to three levels deep) under a records key, else the first list. The
    body's values are read through ``as_object`` and ``is_list``, so the fast record path
    (``records/fast_path.py``), which sees undecoded values, picks the list this does.
    """
    first = None
    for path in _list_paths(body, (), as_object, is_list):
        if path[-1] in RECORD_KEYS and path[-1] not in NOT_RECORD_KEYS:
            return path
        first = first or path
    return first


def _list_paths(
    value: Mapping[str, T],
    path: tuple[str, ...],
    as_object: Callable[[T], Mapping[str, T] | None],
    is_list: Callable[[T], bool],
) -> Iterator[tuple[str, ...]]:
    if len(path) > _MAX_DEPTH:
        return
    for key, item in value.items():
        if is_list(item):
            yield (*path, key)
        elif (inner := as_object(item)) is not None:
            yield from _list_paths(inner, (*path, key), as_object, is_list)


def _as_object(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def _is_list(value: Any) -> bool:
    return isinstance(value, list)
